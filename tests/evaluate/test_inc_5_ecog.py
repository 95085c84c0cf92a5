"""inc-5: ECOG <= 2 (latest result, 28 days) and expected survival (attestation)."""

from __future__ import annotations

import pytest
from evaluate_support import RECENT, patient, result, screen, status

from trialscreen.fhir.builder import LOINC, SNOMED

ECOG = "89247-1"


@pytest.mark.parametrize(("score", "expected"), [(0, "pass"), (1, "pass"), (2, "pass"), (3, "fail"), (4, "fail"), (5, "fail")])
def test_ecog_integer(score: int, expected: str) -> None:
    p = patient()
    p.observation(ECOG, value_integer=score, when=RECENT, category="survey")
    r = screen(p)
    assert status(r, "inc-5.ecog") == expected
    if expected == "fail":
        assert status(r, "inc-5") == "fail"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("LA9622-7", "pass"), ("LA9623-5", "pass"), ("LA9624-3", "pass"), ("LA9625-0", "fail"), ("LA9626-8", "fail"), ("LA9627-6", "fail")],
)
def test_ecog_loinc_answer_codes(answer: str, expected: str) -> None:
    p = patient()
    p.observation(ECOG, value_code=answer, value_system=LOINC, when=RECENT, category="survey")
    assert status(screen(p), "inc-5.ecog") == expected


def test_ecog_answer_code_under_another_system_is_unreadable() -> None:
    p = patient()
    p.observation(ECOG, value_code="LA9622-7", value_system=SNOMED, when=RECENT, category="survey")
    assert status(screen(p), "inc-5.ecog") == "unknown"


@pytest.mark.parametrize("score", [6, -1])
def test_ecog_outside_0_to_5_is_unreadable(score: int) -> None:
    p = patient()
    p.observation(ECOG, value_integer=score, when=RECENT, category="survey")
    r = screen(p)
    assert status(r, "inc-5.ecog") == "unknown"
    assert r.warnings


def test_ecog_as_free_text_is_unreadable() -> None:
    p = patient()
    p.observation(ECOG, value_string="2", when=RECENT, category="survey")
    assert status(screen(p), "inc-5.ecog") == "unknown"


def test_no_ecog_is_unknown_required_test() -> None:
    r = screen(patient())
    assert status(r, "inc-5.ecog") == "unknown"
    assert result(r, "inc-5.ecog").missing


@pytest.mark.parametrize(("when", "expected"), [("2026-10-28", "fail"), ("2026-10-27", "unknown")])
def test_ecog_look_back_first_day_counts(when: str, expected: str) -> None:
    p = patient()
    p.observation(ECOG, value_integer=4, when=when, category="survey")
    assert status(screen(p), "inc-5.ecog") == expected


def test_survival_is_attested() -> None:
    p = patient()
    assert status(screen(p), "inc-5.survival") == "unknown"
    p.attestation({"inc-5.survival": True}, authored=RECENT)
    assert status(screen(p), "inc-5.survival") == "pass"


def test_survival_attested_false_fails() -> None:
    p = patient()
    p.attestation({"inc-5.survival": False}, authored=RECENT)
    r = screen(p)
    assert status(r, "inc-5.survival") == "fail"
    assert status(r, "inc-5") == "fail"


def test_compound_unknown_when_a_part_unknown_and_none_fails() -> None:
    p = patient()
    p.observation(ECOG, value_integer=1, when=RECENT, category="survey")
    r = screen(p)
    assert status(r, "inc-5.ecog") == "pass"
    assert status(r, "inc-5") == "unknown"
    p.attestation({"inc-5.survival": True}, authored=RECENT)
    assert status(screen(p), "inc-5") == "pass"
