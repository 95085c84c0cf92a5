"""`trialscreen screen`: patients' FHIR records against a trial's criteria."""

from __future__ import annotations

import gc
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console

from trialscreen.cli.common import criteria_for, error, parse_as_of
from trialscreen.evaluate import Screener
from trialscreen.fhir import RecordProblem, read_records
from trialscreen.knowledge import KnowledgeError, knowledge_for
from trialscreen.report.text import render


class Format(StrEnum):
    text = "text"
    json = "json"
    verdict = "verdict"


def screen_command(
    files: Annotated[list[Path], typer.Argument(help="FHIR Bundle files, NDJSON files, or directories of them.")],
    trial: Annotated[str | None, typer.Option("--trial", "-t", help="NCT id of the trial.")] = None,
    criteria: Annotated[Path | None, typer.Option("--criteria", "-c", help="A criteria file (YAML or JSON) to screen with.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Screen as on this day (YYYY-MM-DD); default today.")] = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="text for a person; json: one line per patient with every criterion explained; "
            "verdict: one short line per patient (verdict, eligible_from, the criteria that decided it), for bulk pre-screening.",
        ),
    ] = Format.text,
) -> None:
    """Screen every patient in FILES: per criterion pass / fail / unknown, why, and on what evidence."""
    day = parse_as_of(as_of)
    chosen = criteria_for(trial, criteria)
    try:
        screener = Screener(chosen, knowledge_for(criteria))
    except (KnowledgeError, KeyError) as exc:
        raise typer.BadParameter(f"{criteria or trial}: {exc}", param_hint="--criteria") from None
    # What is built so far (criteria, knowledge, unit tables) lives until the end: keep it out
    # of the cyclic collector's full passes, which otherwise walk it again every few patients.
    gc.collect()
    gc.freeze()
    problems = 0
    patients = 0
    out = Console(soft_wrap=False, highlight=False) if fmt is Format.text else None
    lines = _JsonLines(sys.stdout.buffer)
    # Results are decoded when a criterion first needs them: a verdict line often needs none.
    for item in read_records(files, lazy=True):
        if isinstance(item, RecordProblem):
            problems += 1
            lines.flush()  # the lines of the patients before it come first
            error(f"{item.source}: {item.message}")
            continue
        patients += 1
        report = screener.screen(item, day)
        if patients == 1:
            gc.freeze()  # and what the first screening built lazily (the UCUM registry, memos)
        if out is not None:
            out.print(render(report, source=item.source))
        elif fmt is Format.verdict:
            lines.add(report.summary_line())
        else:
            lines.add(report.to_json_line())
    lines.flush()
    sys.stdout.flush()
    if patients == 0 and problems == 0:
        error("no patients found in the given files")
        raise typer.Exit(1)
    if problems:
        raise typer.Exit(1)


class _JsonLines:
    """JSON lines gathered into writes of about a megabyte (one write per line costs).

    Lines are copied into one buffer: orjson hands each line over in an allocation of some
    4 kB whatever its length, so holding short lines themselves would cost 30 times their size.
    """

    def __init__(self, sink: BinaryIO, size: int = 1 << 20) -> None:
        self.sink, self.size = sink, size
        self.pending = bytearray()

    def add(self, line: bytes) -> None:
        self.pending += line
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.sink.write(self.pending)
            self.sink.flush()
            self.pending.clear()


def register(app: typer.Typer) -> None:
    app.command("screen")(screen_command)
