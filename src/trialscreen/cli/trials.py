"""`trialscreen trials` and `trialscreen show`: the known trials and their computable criteria."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trialscreen.cli.common import fail
from trialscreen.criteria import dumps_yaml
from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.trials import TrialRecordError, UnknownTrialError, builtin_trials, get_trial
from trialscreen.trials.render import trial_lines_renderable, trial_listing_renderable


def trials_command(
    records: Annotated[list[Path] | None, typer.Argument(help="Extra ClinicalTrials.gov JSON files or directories.")] = None,
) -> None:
    """List the known trials: built in, and any in the given records."""
    from trialscreen.trials import load_trials

    found = list(builtin_trials())
    for path in records or []:
        try:
            found.extend(load_trials(path))
        except TrialRecordError as exc:
            fail(str(exc))
    Console(highlight=False).print(trial_lines_renderable(found))


def show_command(
    nct_id: Annotated[str, typer.Argument(help="NCT id of the trial.")],
    records: Annotated[list[Path] | None, typer.Option("--records", help="Where else to look for the trial's record.")] = None,
) -> None:
    """Print a trial's listing and its computable criteria."""
    try:
        trial = get_trial(nct_id, records or ())
    except (UnknownTrialError, TrialRecordError) as exc:
        fail(str(exc))
        return
    console = Console(highlight=False)
    console.print(trial_listing_renderable(trial))
    criteria = builtin_criteria(trial.nct_id)
    console.rule("Computable criteria")
    if criteria is None:
        console.print(f"No computable criteria yet: run `trialscreen parse {trial.nct_id}` to make a file for review.")
    else:
        console.print(dumps_yaml(criteria), markup=False)


def register(app: typer.Typer) -> None:
    app.command("trials")(trials_command)
    app.command("show")(show_command)
