"""Past medicine use in the pre-screening questionnaire: its own question, and a yes screens as use."""

from __future__ import annotations

from trialscreen.criteria import CriteriaSet
from trialscreen.questionnaire import build_questionnaire


def _criteria() -> CriteriaSet:
    return CriteriaSet.model_validate({
        "trial": "NCT00000002",
        "criteria": [
            {"id": "exc-1", "kind": "exclusion", "text": "Current immunosuppressants",
             "rule": {"kind": "medication", "valueset": "immunosuppressant"}},
            {"id": "exc-2", "kind": "exclusion", "text": "Immunosuppressants in the past 4 weeks",
             "rule": {"kind": "medication", "valueset": "immunosuppressant", "window": "P4W"}},
            {"id": "exc-3", "kind": "exclusion", "text": "Ever immunosuppressants",
             "rule": {"kind": "medication", "valueset": "immunosuppressant", "timing": "ever"}},
        ],
    })


def test_current_past_and_ever_use_are_three_questions() -> None:
    q = build_questionnaire(_criteria())
    by_id = q.by_id()
    assert set(by_id) == {"medication.immunosuppressant", "medication.immunosuppressant.P4W", "medication.immunosuppressant.ever"}
    assert by_id["medication.immunosuppressant"].text.startswith("Do you take")
    assert by_id["medication.immunosuppressant.P4W"].text.startswith("In the last 4 weeks")
    assert by_id["medication.immunosuppressant.ever"].text.startswith("Have you ever taken")


def test_yes_to_past_use_screens_as_use_in_the_window_and_no_as_none() -> None:
    from datetime import date

    from trialscreen.evaluate import Screener
    from trialscreen.fhir import PatientRecord
    from trialscreen.questionnaire.answers import parse_answers, to_resources

    criteria = _criteria()
    q = build_questionnaire(criteria)
    screener = Screener(criteria)
    as_of = date(2026, 11, 25)
    for answer, expected in (("yes", "fail"), ("no", "pass")):
        raw = {link: "no" for link in q.by_id()} | {"medication.immunosuppressant.P4W": answer}
        built = to_resources(q, parse_answers(q, raw), as_of)
        report = screener.screen(PatientRecord.from_resources(built.resources), as_of)
        statuses = {c.id: c.status for c in report.criteria}
        assert statuses["exc-2"] == expected, answer
        assert statuses["exc-1"] == "pass"  # a past use is not current use
