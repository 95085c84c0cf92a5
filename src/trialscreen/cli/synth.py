"""`trialscreen synth`: write a synthetic population as OMOP CDM Parquet and FHIR NDJSON."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer


def _error(message: str, code: int) -> None:
    print(f"trialscreen: {message}", file=sys.stderr)
    raise typer.Exit(code)


def synth(
    out: Annotated[Path, typer.Option("--out", help="Directory to write omop/ and fhir/ into.")],
    persons: Annotated[int, typer.Option("--persons", help="How many persons.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same files.")] = 0,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date the data leads up to (YYYY-MM-DD); default today."),
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="omop or fhir; repeat for both (the default)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing on success.")] = False,
) -> None:
    """Generate a synthetic hospital population with an AML sub-population.

    The same persons are written as OMOP CDM v5.4 tables (DIR/omop/*.parquet, with their
    vocabulary subset) and as FHIR R4 bulk NDJSON (DIR/fhir/<Type>.ndjson).
    """
    if persons < 1:
        _error(f"--persons must be at least 1, got {persons}", 2)
    if seed < 0:
        _error(f"--seed must not be negative, got {seed}", 2)
    from trialscreen.synth import FORMATS, generate  # numpy and pyarrow load only when asked

    chosen = tuple(formats) if formats else FORMATS
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        _error(f"--format {bad[0]!r}: expected one of {', '.join(FORMATS)}", 2)
    try:
        day = date.fromisoformat(as_of) if as_of is not None else date.today()
    except ValueError:
        _error(f"--as-of {as_of!r}: expected a date as YYYY-MM-DD", 2)
        return
    if out.exists() and not out.is_dir():
        _error(f"--out {out}: exists and is not a directory", 2)
    started = time.perf_counter()
    try:
        summary = generate(persons, seed, out, day, formats=chosen)
    except OSError as exc:
        _error(f"cannot write to {out}: {exc.strerror or exc}", 1)
        return
    if not quiet:
        elapsed = time.perf_counter() - started
        facts = ", ".join(f"{k} {v:,}" for k, v in summary.counts.items())
        print(f"wrote {persons:,} persons (seed {seed}, as of {day}) to {out} [{', '.join(chosen)}] in {elapsed:.1f} s")
        print(facts)


def register(app: typer.Typer) -> None:
    """Add the `synth` command to the application."""
    app.command("synth")(synth)
