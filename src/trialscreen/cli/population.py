"""`trialscreen population`: screen a whole OMOP CDM population against a trial's criteria."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress

from trialscreen.knowledge import KnowledgeError, knowledge_for

# The OMOP engines (Ibis, DuckDB, Spark, matplotlib) are imported when the command runs, so
# every other command starts without them.


class _Bars:
    """Run phases as Rich progress bars (on stderr, so stdout keeps the table).

    Implements `trialscreen.omop.run.Progress` (phase, advance) without importing it.
    """

    def __init__(self, progress: RichProgress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def phase(self, name: str, total: int | None = None) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(
                self._task, total=task.completed or 1, completed=task.completed or 1
            )
        self._task = self._progress.add_task(name, total=total)

    def advance(self, detail: str = "") -> None:
        if self._task is not None:
            self._progress.advance(self._task)
            if detail:
                name = self._progress.tasks[self._task].description.split(" · ")[0]
                self._progress.update(self._task, description=f"{name} · {detail}")


def _as_of(value: str | None) -> date:
    from trialscreen.omop.sources import UsageError

    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of {value!r}: expected a date as YYYY-MM-DD") from None


def population(
    out: Annotated[
        Path,
        typer.Option("--out", help="Directory for persons.parquet, funnel.json and the chart."),
    ],
    omop: Annotated[
        str,
        typer.Option(
            "--omop",
            help="OMOP CDM source: a DuckDB file, a directory of Parquet/CSV tables, "
            "or postgresql://user@host:port/db?schema=cdm.",
        ),
    ],
    trial: Annotated[
        str | None, typer.Option("--trial", help="NCT id with built-in criteria.")
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb, spark or postgres.")] = "duckdb",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Screening date, YYYY-MM-DD (default today).")
    ] = None,
    criteria_file: Annotated[
        Path | None,
        typer.Option("--criteria", help="A criteria file (YAML/JSON) instead of the built-in one."),
    ] = None,
    what_if: Annotated[
        list[str] | None,
        typer.Option("--what-if", help="A changed threshold, e.g. 'inc-6.lvef>=40' (repeatable)."),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option("--schema", help="Schema of the CDM tables (PostgreSQL or DuckDB file)."),
    ] = None,
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="Spark master URL.")
    ] = "local[2]",
    pg_url: Annotated[
        str | None,
        typer.Option(
            "--pg-url", help="PostgreSQL server to load a file source into (--engine postgres)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars or table.")] = False,
) -> None:
    """Screen every person of an OMOP CDM database against a trial's eligibility criteria."""
    from trialscreen.omop.engines import ENGINES
    from trialscreen.omop.outputs import print_summary
    from trialscreen.omop.run import PopulationRequest, load_criteria, run_population
    from trialscreen.omop.sources import PopulationError, UsageError
    from trialscreen.omop.whatif import parse_what_if

    console = Console()
    errors = Console(stderr=True)
    try:
        if engine not in ENGINES:
            raise UsageError(f"--engine {engine}: unknown engine (choose {', '.join(ENGINES)})")
        request = PopulationRequest(
            criteria=load_criteria(trial, criteria_file),
            source=omop,
            out=out,
            engine=engine,
            as_of=_as_of(as_of),
            schema=schema,
            what_ifs=[parse_what_if(w) for w in what_if or []],
            spark_master=spark_master,
            pg_url=pg_url,
            knowledge=knowledge_for(criteria_file),
        )
        if quiet:
            result = run_population(request)
        else:
            columns = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with RichProgress(*columns, console=errors, transient=True) as bars:
                result = run_population(request, _Bars(bars))  # type: ignore[arg-type]
    except KnowledgeError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except PopulationError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    if not quiet:
        print_summary(result.funnel, console)
        console.print(
            f"wrote {out}/persons.parquet, funnel.json, funnel.png, funnel.svg", highlight=False
        )


def register(app: typer.Typer) -> None:
    """Add the `population` command to the trialscreen CLI."""
    app.command("population")(population)
