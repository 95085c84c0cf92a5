"""Looking trials up by NCT id among the built-ins and user-supplied files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialscreen.trials import UnknownTrialError, builtin_trials, get_trial, load_trials


def test_builtins_hold_the_seed_trial() -> None:
    assert [t.nct_id for t in builtin_trials()] == ["NCT06125652"]


@pytest.mark.parametrize("typed", ["NCT06125652", "nct06125652", "  Nct06125652\n"])
def test_ids_are_case_insensitive(typed: str) -> None:
    assert get_trial(typed).nct_id == "NCT06125652"


def test_unknown_id_lists_known_ids(tmp_path: Path) -> None:
    extra = tmp_path / "one.json"
    extra.write_text(
        json.dumps({"protocolSection": {"identificationModule": {"nctId": "NCT00000042"}}})
    )
    with pytest.raises(UnknownTrialError) as caught:
        get_trial("NCT99999999", [extra])
    message = str(caught.value)
    assert "NCT99999999" in message
    assert "NCT06125652" in message and "NCT00000042" in message


def test_extra_paths_are_searched(ctgov_dir: Path) -> None:
    folder = ctgov_dir / "nsclcbench"
    wanted = load_trials(folder)[-1]
    assert get_trial(wanted.nct_id.lower(), [folder]) == wanted


def test_long_known_list_is_shortened(ctgov_dir: Path) -> None:
    with pytest.raises(UnknownTrialError) as caught:
        get_trial("NCT99999999", [ctgov_dir])
    assert "more" in str(caught.value)
    assert len(caught.value.known_ids) > UnknownTrialError.MAX_LISTED
