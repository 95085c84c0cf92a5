"""Unreadable trial files fail with a TrialRecordError naming the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trialscreen.trials import TrialRecordError, load_trials


def study(**modules: Any) -> dict[str, Any]:
    protocol = {"identificationModule": {"nctId": "NCT01234567"}, **modules}
    return {"protocolSection": protocol}


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def load_error(path: Path) -> TrialRecordError:
    with pytest.raises(TrialRecordError) as caught:
        load_trials(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_not_json(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "broken.json", '{"protocolSection": '))
    assert "not valid JSON" in str(error)


@pytest.mark.parametrize("content", ["", "  \n\t"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    assert "empty" in str(load_error(write(tmp_path, "empty.json", content)))


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in str(load_error(tmp_path / "absent.json"))


@pytest.mark.parametrize(
    ("modules", "field", "found"),
    [
        ({"designModule": {"enrollmentInfo": {"count": "20"}}}, "enrollmentInfo.count", "'20'"),
        ({"conditionsModule": {"conditions": "AML"}}, "conditionsModule.conditions", "'AML'"),
        ({"eligibilityModule": {"healthyVolunteers": "No"}}, "healthyVolunteers", "'No'"),
        ({"eligibilityModule": {"minimumAge": 18}}, "minimumAge", "number 18"),
        ({"eligibilityModule": {"maximumAge": "seventy"}}, "maximumAge", "'seventy'"),
        ({"statusModule": {"startDateStruct": {"date": "Nov 2023"}}}, "startDateStruct", "Nov"),
        ({"statusModule": {"overallStatus": ["RECRUITING"]}}, "overallStatus", "array"),
    ],
)
def test_wrong_type_names_file_field_and_value(
    tmp_path: Path, modules: dict[str, Any], field: str, found: str
) -> None:
    path = write(tmp_path, "wrong.json", json.dumps([study(), study(**modules)]))
    message = str(load_error(path))
    assert field in message
    assert found in message
    assert "[1] (NCT01234567)" in message  # which study of the file


def test_bad_nct_id_and_missing_identification(tmp_path: Path) -> None:
    bad_id = {"protocolSection": {"identificationModule": {"nctId": "12345"}}}
    assert "not an NCT id" in str(load_error(write(tmp_path, "id.json", json.dumps(bad_id))))
    no_ident: dict[str, Any] = {"protocolSection": {"statusModule": {}}}
    message = str(load_error(write(tmp_path, "noid.json", json.dumps(no_ident))))
    assert "identificationModule: required field is missing" in message


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"resultsSection": {}}, "top-level keys: resultsSection"),
        (42, "found number 42"),
        ([1, 2], "expected a study object, found number 1"),
        ([{"hasResults": False}], "no 'protocolSection' key"),
        ({"studies": {"a": 1}}, "studies: expected an array of studies"),
    ],
)
def test_json_that_is_not_studies(tmp_path: Path, data: Any, problem: str) -> None:
    assert problem in str(load_error(write(tmp_path, "other.json", json.dumps(data))))


def test_empty_lists_are_no_trials_not_errors(tmp_path: Path) -> None:
    assert load_trials(write(tmp_path, "none.json", "[]")) == []
    assert load_trials(write(tmp_path, "page.json", '{"studies": [], "totalCount": 0}')) == []


def test_directory_reports_the_bad_file_among_good_ones(tmp_path: Path) -> None:
    write(tmp_path, "a_good.json", json.dumps(study()))
    (tmp_path / "sub").mkdir()
    bad = write(tmp_path / "sub", "b_bad.json", "nope")
    assert str(bad) in str(load_error(tmp_path))


def test_extra_and_missing_fields_are_tolerated(tmp_path: Path) -> None:
    data = study(
        eligibilityModule={"sex": "ALL", "futureField": {"x": 1}},
        brandNewModule={"anything": [1, 2, 3]},
    )
    data["someOtherSection"] = True
    (trial,) = load_trials(write(tmp_path, "extra.json", json.dumps(data)))
    assert trial.eligibility.sex == "ALL"
    assert trial.eligibility.minimum_age_years is None
    assert trial.overall_status is None
    assert trial.title == "NCT01234567"
    assert trial.to_api() == data
