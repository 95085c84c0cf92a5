"""A loaded trial gives back exactly the JSON it was read from, and reloads equal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trials_test_paths import ctgov_files

from trialscreen.trials import Trial, load_trials, trials_from_json


@pytest.mark.parametrize("path", ctgov_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_file_round_trip(path: Path, tmp_path: Path) -> None:
    trials = load_trials(path)
    out = tmp_path / "again.json"
    out.write_text(json.dumps([trial.to_api() for trial in trials]), encoding="utf-8")
    assert load_trials(out) == trials


def test_to_api_is_a_copy(tmp_path: Path) -> None:
    data = {"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}}
    (trial,) = trials_from_json(data, "test")
    trial.to_api()["protocolSection"]["identificationModule"]["nctId"] = "changed"
    data["protocolSection"]["identificationModule"]["nctId"] = "changed too"
    assert trial.to_api()["protocolSection"]["identificationModule"]["nctId"] == "NCT00000001"


def test_trials_are_immutable() -> None:
    (trial,) = trials_from_json(
        {"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}}, "test"
    )
    with pytest.raises(ValueError, match="frozen"):
        trial.protocol_section = trial.protocol_section


json_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
age = st.builds(
    "{} {}".format, st.integers(0, 120), st.sampled_from(["Years", "Months", "Weeks", "Days"])
)


@st.composite
def studies(draw: st.DrawFn) -> dict[str, Any]:
    """Study objects with typed fields of the right type plus arbitrary unknown keys."""
    eligibility: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "sex": st.sampled_from(["ALL", "FEMALE", "MALE"]),
                "minimumAge": age,
                "maximumAge": age | st.just("N/A"),
                "eligibilityCriteria": st.text(max_size=40),
                "healthyVolunteers": st.booleans(),
                "stdAges": st.lists(st.sampled_from(["CHILD", "ADULT", "OLDER_ADULT"])),
            },
        )
    )
    eligibility.update(draw(st.dictionaries(st.sampled_from(["x1", "x2"]), json_value)))
    nct = draw(st.from_regex(r"NCT[0-9]{8}", fullmatch=True))
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": draw(st.text(max_size=20))},
            "eligibilityModule": eligibility,
            "conditionsModule": {"conditions": draw(st.lists(st.text(max_size=10), max_size=3))},
        },
        "extraTopLevel": draw(json_value),
    }


@settings(max_examples=60, deadline=None)
@given(studies())
def test_round_trip_property(study: dict[str, Any]) -> None:
    (trial,) = trials_from_json(study, "generated")
    assert trial.to_api() == study
    (again,) = trials_from_json(json.loads(json.dumps(trial.to_api())), "reloaded")
    assert again == trial
    assert isinstance(again, Trial)
    eligibility = study["protocolSection"]["eligibilityModule"]
    assert trial.eligibility.sex == eligibility.get("sex")
    assert list(trial.conditions) == study["protocolSection"]["conditionsModule"]["conditions"]
