"""What every command shares: stderr messages, dates, loading a trial's criteria."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from trialscreen.criteria import CriteriaFileError, CriteriaSet, load
from trialscreen.criteria.builtin import builtin_criteria, builtin_ids

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One line on stderr, prefixed with the tool's name."""
    err_console.print(f"trialscreen: {message}", markup=False)


def parse_as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD") from None


def criteria_for(trial: str | None, criteria_file: Path | None) -> CriteriaSet:
    """The criteria to screen with: a file (reviewed or parsed), else the curated built-in."""
    if criteria_file is not None:
        try:
            criteria = load(criteria_file)
        except CriteriaFileError as exc:
            raise typer.BadParameter(str(exc), param_hint="--criteria") from None
        if trial and criteria.trial.upper() != trial.strip().upper():
            raise typer.BadParameter(
                f"{criteria_file} holds the criteria of {criteria.trial}, not {trial}", param_hint="--criteria"
            )
        return criteria
    if not trial:
        raise typer.BadParameter("give --trial NCT... or --criteria FILE", param_hint="--trial")
    found = builtin_criteria(trial)
    if found is None:
        known = ", ".join(builtin_ids()) or "none"
        raise typer.BadParameter(
            f"no computable criteria for {trial} (built in: {known}); "
            f"make a file with `trialscreen parse {trial}` and pass --criteria",
            param_hint="--trial",
        )
    return found


def fail(message: str, code: int = 1) -> None:
    error(message)
    sys.exit(code)
