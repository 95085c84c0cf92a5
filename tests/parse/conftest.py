"""Shared data for the parser tests: real records and Chia lines from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialscreen.trials import Trial, load_trials

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
CHIA = DATA / "chia" / "chia_with_scope"


@pytest.fixture(scope="session")
def ctgov_trials() -> list[Trial]:
    trials = [t for t in load_trials(DATA / "ctgov") if t.eligibility_criteria]
    assert len(trials) > 100
    return trials


@pytest.fixture(scope="session")
def trials_by_id(ctgov_trials: list[Trial]) -> dict[str, Trial]:
    return {t.nct_id: t for t in ctgov_trials}


def chia_text(name: str) -> str:
    return (CHIA / f"{name}.txt").read_text(encoding="utf-8")
