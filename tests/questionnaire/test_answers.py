"""Answers become the FHIR resources a record would hold, read by the evaluator."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialscreen.fhir import PatientRecord
from trialscreen.questionnaire import Quantity, Questionnaire
from trialscreen.questionnaire.answers import AnswerError, parse_answers, to_resources

from .conftest import AS_OF
from .seed_answers import qualifying


def _completed_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@given(age=st.integers(0, 120), on=st.dates(date(1990, 1, 1), date(2100, 12, 31)))
def test_age_becomes_a_birth_date_of_that_age(seed_q: Questionnaire, age: int, on: date) -> None:
    built = to_resources(seed_q, parse_answers(seed_q, {"age": str(age)}), on)
    patient = next(r for r in built.resources if r["resourceType"] == "Patient")
    assert _completed_years(date.fromisoformat(patient["birthDate"]), on) == age


def test_resources_are_coded_as_a_record_would_be(seed_q: Questionnaire) -> None:
    raw = qualifying(seed_q, **{"history.cns_disorder": "yes", "medication.immunosuppressant": "yes"})
    built = to_resources(seed_q, parse_answers(seed_q, raw), AS_OF)
    kinds = [r["resourceType"] for r in built.resources]
    assert kinds.count("Patient") == 1 and kinds.count("QuestionnaireResponse") == 1
    hb = next(r for r in built.resources if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "718-7")
    assert hb["valueQuantity"] == {"value": 9.5, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"}
    assert hb["code"]["coding"][0]["system"] == "http://loinc.org"
    conditions = [r for r in built.resources if r["resourceType"] == "Condition"]
    assert any(c["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm" for c in conditions)
    assert any(r["resourceType"] == "MedicationStatement" for r in built.resources)
    qr = built.resources[-1]
    attest = [i for i in qr["item"] if i["linkId"] == "inc-8"]
    assert attest == [{"linkId": "inc-8", "text": attest[0]["text"], "answer": [{"valueBoolean": True}]}]
    record = PatientRecord.from_resources(built.resources)
    assert record.patient_id == "prescreen"


def test_answers_to_hidden_questions_do_not_count(seed_q: Questionnaire) -> None:
    raw = qualifying(seed_q, sex="male", **{"test.hcg": "positive"})
    built = to_resources(seed_q, parse_answers(seed_q, raw), AS_OF)
    assert not any(r.get("code", {}).get("coding", [{}])[0].get("code") in ("2106-3", "2118-8") for r in built.resources)


def test_dont_know_on_a_closed_world_question_is_tried_both_ways(seed_q: Questionnaire) -> None:
    answers = parse_answers(seed_q, qualifying(seed_q, **{"history.cns_disorder": "unknown"}))
    absent = to_resources(seed_q, answers, AS_OF, hypothesis="absent")
    present = to_resources(seed_q, answers, AS_OF, hypothesis="present")
    assert absent.unknown == ["history.cns_disorder"]
    assert len(present.resources) == len(absent.resources) + 1


@pytest.mark.parametrize(
    ("raw", "link", "words"),
    [
        ({"test.hemoglobin": {"value": "9", "unit": "mg/L"}}, "test.hemoglobin", "unit"),
        ({"test.hemoglobin": {"value": "nine", "unit": "g/dL"}}, "test.hemoglobin", "number"),
        ({"test.hemoglobin": {"value": "-1", "unit": "g/dL"}}, "test.hemoglobin", "0 or more"),
        ({"age": "forty"}, "age", "whole number"),
        ({"age": "200"}, "age", "0 to 130"),
        ({"sex": "robot"}, "sex", "choose one"),
        ({"no.such.question": "yes"}, "no.such.question", "no such question"),
    ],
)
def test_bad_answers_are_named(seed_q: Questionnaire, raw: dict, link: str, words: str) -> None:
    with pytest.raises(AnswerError) as info:
        parse_answers(seed_q, raw)
    assert words in info.value.problems[link]


def test_commas_as_decimal_separator(seed_q: Questionnaire) -> None:
    parsed = parse_answers(seed_q, {"test.hemoglobin": {"value": "9,5", "unit": "g/dL"}})
    assert parsed["test.hemoglobin"] == Quantity(9.5, "g/dL")
