"""Attestations from QuestionnaireResponse: which answer counts, what it may decide."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from evaluate_support import RECENT, patient, result, screen, status

from trialscreen.fhir.builder import PatientBuilder


@pytest.mark.parametrize(("criterion", "answer", "expected"), [
    ("inc-4", True, "pass"), ("inc-4", False, "fail"),
    ("inc-5.survival", True, "pass"), ("inc-5.survival", False, "fail"),
    ("exc-16", True, "fail"), ("exc-16", False, "pass"),
])
def test_attestation_criteria(criterion: str, answer: bool, expected: str) -> None:
    p = patient()
    assert status(screen(p), criterion) == "unknown"
    p.attestation({criterion: answer}, authored=RECENT)
    r = screen(p)
    assert status(r, criterion) == expected
    assert any(e.resource.startswith("QuestionnaireResponse/") for e in result(r, criterion).evidence)


def test_inc8_attested_by_a_man() -> None:
    p = patient(gender="male")
    p.attestation({"inc-8": True}, authored=RECENT)
    assert status(screen(p), "inc-8") == "pass"


def test_latest_authored_wins_whatever_the_order() -> None:
    p = patient()
    p.attestation({"inc-4": False}, authored="2026-11-21")
    p.attestation({"inc-4": True}, authored="2026-11-10")
    assert status(screen(p), "inc-4") == "fail"
    q = patient()
    q.attestation({"inc-4": True}, authored="2026-11-10")
    q.attestation({"inc-4": False}, authored="2026-11-21")
    assert status(screen(q), "inc-4") == "fail"


def test_latest_authored_by_full_timestamp() -> None:
    p = patient()
    p.attestation({"exc-16": True}, authored="2026-11-20T16:00:00+00:00")
    p.attestation({"exc-16": False}, authored="2026-11-20T09:00:00+00:00")
    assert status(screen(p), "exc-16") == "fail"


def test_authored_after_as_of_ignored() -> None:
    p = patient()
    p.attestation({"inc-4": True}, authored="2026-11-10")
    p.attestation({"inc-4": False}, authored="2026-11-26")
    assert status(screen(p), "inc-4") == "pass"
    assert status(screen(p, date(2026, 11, 26)), "inc-4") == "fail"


@pytest.mark.parametrize("qr_status", ["in-progress", "amended", "stopped", "entered-in-error"])
def test_only_completed_responses_count(qr_status: str) -> None:
    p = patient()
    p.attestation({"inc-4": True}, authored=RECENT, status=qr_status)
    assert status(screen(p), "inc-4") == "unknown"


def test_nested_items_count() -> None:
    p = patient()
    p.attestation({"inc-4": True, "exc-16": False}, authored=RECENT, nested=True)
    r = screen(p)
    assert status(r, "inc-4") == "pass" and status(r, "exc-16") == "pass"


def test_items_nested_under_an_answer_count() -> None:
    p = patient()
    res = p.attestation({"group": True}, authored=RECENT)
    res["item"][0]["answer"][0]["item"] = [{"linkId": "inc-4", "answer": [{"valueBoolean": True}]}]
    assert status(screen(p), "inc-4") == "pass"


@pytest.mark.parametrize("link", ["INC-4", "inc-4 ", "inc-04", "inc-4.extra", "inc4"])
def test_link_id_must_be_exactly_the_criterion_id(link: str) -> None:
    p = patient()
    p.attestation({link: True}, authored=RECENT)
    assert status(screen(p), "inc-4") == "unknown"


@pytest.mark.parametrize("answer", [{"valueString": "true"}, {"valueCoding": {"code": "Y"}}, {"valueInteger": 1}])
def test_only_boolean_answers_count(answer: dict[str, Any]) -> None:
    p = patient()
    res = p.attestation({"inc-4": True}, authored=RECENT)
    res["item"][0]["answer"] = [answer]
    assert status(screen(p), "inc-4") == "unknown"


# --- on criteria the record decides ----------------------------------------------------------------


def test_parent_id_does_not_decide_parts() -> None:
    p = patient()
    p.attestation({"inc-6": True, "inc-5": True, "exc-3": False}, authored=RECENT)
    r = screen(p)
    for cid in ("inc-6", "inc-6.ast", "inc-5", "inc-5.survival", "exc-3", "exc-3.hbv"):
        assert status(r, cid) == "unknown", cid


def test_part_attestation_decides_an_unknown_part() -> None:
    p = patient()
    p.attestation({"inc-6.lvef": True, "exc-3.cmv": False}, authored=RECENT)
    r = screen(p)
    assert status(r, "inc-6.lvef") == "pass"
    assert status(r, "exc-3.cmv") == "pass"
    assert "attestation" in result(r, "inc-6.lvef").reason
    assert not result(r, "inc-6.lvef").missing


def contradiction(p: PatientBuilder, criterion: str, expected: str) -> None:
    r = screen(p)
    res = result(r, criterion)
    assert res.status == expected
    assert "record wins" in res.reason
    assert any(criterion in w for w in r.warnings)
    assert any(e.resource.startswith("QuestionnaireResponse/") for e in res.evidence)


def test_record_fail_wins_over_attested_pass() -> None:
    p = patient()
    p.observation("718-7", value=50, unit="g/L", when=RECENT)
    p.attestation({"inc-6.hemoglobin": True}, authored=RECENT)
    contradiction(p, "inc-6.hemoglobin", "fail")


def test_record_pass_wins_over_attested_fail() -> None:
    p = patient()
    p.observation("718-7", value=90, unit="g/L", when=RECENT)
    p.attestation({"inc-6.hemoglobin": False}, authored=RECENT)
    contradiction(p, "inc-6.hemoglobin", "pass")


def test_closed_world_pass_wins_over_attested_exclusion() -> None:
    p = patient()
    p.attestation({"exc-2": True}, authored=RECENT)
    contradiction(p, "exc-2", "pass")


def test_recorded_exclusion_wins_over_attested_absence() -> None:
    p = patient()
    p.condition("C92.41", onset="2020-01-01")
    p.attestation({"exc-1": False}, authored=RECENT)
    contradiction(p, "exc-1", "fail")


def test_agreeing_attestation_is_no_contradiction() -> None:
    p = patient()
    p.observation("718-7", value=90, unit="g/L", when=RECENT)
    p.attestation({"inc-6.hemoglobin": True}, authored=RECENT)
    r = screen(p)
    assert status(r, "inc-6.hemoglobin") == "pass"
    assert "record wins" not in result(r, "inc-6.hemoglobin").reason
    assert not any("inc-6.hemoglobin" in w for w in r.warnings)


def test_attestation_decides_unknown_exclusion() -> None:
    p = patient()
    p.condition("I50.9", onset="2020-01-01")  # heart failure, no NYHA: unknown
    p.attestation({"exc-5": True}, authored=RECENT)
    r = screen(p)
    assert status(r, "exc-5") == "fail"
    assert result(r, "exc-5").eligible_from is None
    q = patient()
    q.condition("I50.9", onset="2020-01-01")
    q.attestation({"exc-5": False}, authored=RECENT)
    assert status(screen(q), "exc-5") == "pass"


def test_attestation_ignored_on_not_applicable_criterion() -> None:
    p = patient(gender="female", birth_date="1960-01-01")
    p.attestation({"inc-7": False, "inc-8": False}, authored=RECENT)
    r = screen(p)
    assert status(r, "inc-7") == "pass" and status(r, "inc-8") == "pass"
    assert not r.warnings


def test_attestation_on_applicable_pregnancy_test() -> None:
    p = patient(gender="female", birth_date="1990-01-01")
    p.attestation({"inc-7": True}, authored=RECENT)
    assert status(screen(p), "inc-7") == "pass"  # no test: the attestation decides
    p.observation("2118-8", value_code="10828004", when="2026-11-24")
    contradiction(p, "inc-7", "fail")  # a positive test: the record wins


@pytest.mark.parametrize("order", [(True, False), (False, True)])
@pytest.mark.parametrize("criterion", ["inc-4", "exc-16", "inc-6.lvef", "exc-3.cmv"])
def test_answers_authored_at_the_same_time_tie_to_the_least_favourable(order: tuple[bool, bool], criterion: str) -> None:
    p = patient()
    for value in order:
        p.attestation({criterion: value}, authored="2026-11-20T10:00:00+00:00")
    assert status(screen(p), criterion) == "fail"
