"""Text views used by `trialscreen trials` and `trialscreen show`."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from trialscreen.trials import Trial, get_trial, load_trials, trials_from_json
from trialscreen.trials.render import (
    trial_line,
    trial_lines,
    trial_listing,
    trial_listing_renderable,
)


def render_rich(renderable: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_one_line_per_trial(ctgov_dir: Path) -> None:
    trials = load_trials(ctgov_dir / "dgg32_clinical-trials-public")
    lines = trial_lines(trials).split("\n")
    assert len(lines) == len(trials)
    for line, trial in zip(lines, trials, strict=True):
        assert line.startswith(trial.nct_id)
        assert line.endswith(trial.title)
        assert (trial.overall_status or "-") in line
    assert len({line.index(t.title) for line, t in zip(lines, trials, strict=True)}) == 1


def test_seed_listing_shows_what_a_reader_needs() -> None:
    trial = get_trial("NCT06125652")
    text = trial_listing(trial)
    assert trial_line(trial) == f"NCT06125652  RECRUITING  {trial.title}"
    assert trial.eligibility_criteria is not None and trial.eligibility_criteria in text
    for expected in (
        trial.title,
        "XUZHOU MEDICAL UNIVERSITY",
        "Recruiting",
        "2023-11-04",
        "Acute Myeloid Leukemia",
        "18 Years to 70 Years",
        "Jennifer Cobb",
        "Xuzhou, Jiangsu, China",
        "Kailin Xu, MD.,PD., Study chair",
        "Phase 1/Phase 2",
        "20 participants (planned)",
        trial.about_sponsor,
    ):
        assert expected and expected in text


def test_rich_view_keeps_brackets_literal() -> None:
    (trial,) = trials_from_json(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT00000007", "briefTitle": "[bold]x[/bold]"},
                "eligibilityModule": {"eligibilityCriteria": "ANC \\[x10^9/L\\] [red]"},
            }
        },
        "test",
    )
    shown = render_rich(trial_listing_renderable(trial))
    assert "[bold]x[/bold]" in shown and "[red]" in shown


def test_listing_of_every_shared_record(ctgov_dir: Path) -> None:
    for trial in load_trials(ctgov_dir):
        text = trial_listing(trial)
        assert isinstance(trial, Trial) and trial.nct_id in text
        for location in trial.protocol_section.contacts_locations_module.locations:
            assert location.place in text
