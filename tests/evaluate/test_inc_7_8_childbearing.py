"""inc-7 (negative pregnancy test) and inc-8 (contraception), and who they apply to."""

from __future__ import annotations

import pytest
from evaluate_support import patient, result, screen, status

from trialscreen.fhir.builder import ICD10, SNOMED, PatientBuilder

SERUM, URINE = "2118-8", "2106-3"
POSITIVE, NEGATIVE = "10828004", "260385009"
RACE = "urn:oid:2.16.840.1.113883.6.238"


def woman(birth: str | None = "1990-03-01") -> PatientBuilder:
    return patient(gender="female", birth_date=birth)


@pytest.mark.parametrize("code", [SERUM, URINE])
def test_negative_test_passes_positive_fails(code: str) -> None:
    p = woman()
    p.observation(code, value_code=NEGATIVE, when="2026-11-24")
    assert status(screen(p), "inc-7") == "pass"
    q = woman()
    q.observation(code, value_code=POSITIVE, when="2026-11-24")
    assert status(screen(q), "inc-7") == "fail"


def test_no_test_is_unknown_for_a_woman_of_childbearing_potential() -> None:
    r = screen(woman())
    assert status(r, "inc-7") == "unknown"
    assert result(r, "inc-7").missing


@pytest.mark.parametrize(("when", "expected"), [("2026-11-18", "fail"), ("2026-11-17", "unknown")])
def test_pregnancy_test_look_back_7_days_first_day_counts(when: str, expected: str) -> None:
    p = woman()
    p.observation(SERUM, value_code=POSITIVE, when=when)
    assert status(screen(p), "inc-7") == expected


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"value_string": "Negative"}, "pass"),
        ({"value_string": "POSITIVE"}, "fail"),
        ({"value_string": "not detected"}, "pass"),
        ({"value_string": "detected"}, "fail"),
        ({"value_string": "non-reactive"}, "pass"),
        ({"value_string": "Reactive"}, "fail"),
        ({"value_string": "equivocal"}, "unknown"),
        ({"interpretation": "NEG"}, "pass"),
        ({"interpretation": "POS"}, "fail"),
        ({"interpretation": "A"}, "unknown"),
        ({"value": 3, "unit": "m[IU]/mL"}, "unknown"),
    ],
)
def test_qualitative_readings(kw: dict[str, object], expected: str) -> None:
    p = woman()
    p.observation(SERUM, when="2026-11-24", **kw)
    assert status(screen(p), "inc-7") == expected


def test_latest_test_decides() -> None:
    p = woman()
    p.observation(SERUM, value_code=POSITIVE, when="2026-11-20")
    p.observation(URINE, value_code=NEGATIVE, when="2026-11-24")
    assert status(screen(p), "inc-7") == "pass"


def test_synthea_race_code_2106_3_is_not_a_pregnancy_test() -> None:
    p = woman()
    res = p.observation(URINE, value_code=NEGATIVE, when="2026-11-24")
    res["code"]["coding"][0]["system"] = RACE
    assert status(screen(p), "inc-7") == "unknown"


# --- who is of childbearing potential -----------------------------------------------------


def test_male_not_applicable_for_inc7_and_attests_inc8() -> None:
    p = patient(gender="male")
    r = screen(p)
    assert status(r, "inc-7") == "pass"
    assert "not applicable" in result(r, "inc-7").reason
    assert status(r, "inc-8") == "unknown"
    p.attestation({"inc-8": True}, authored="2026-11-20")
    assert status(screen(p), "inc-8") == "pass"
    q = patient(gender="male")
    q.attestation({"inc-8": False}, authored="2026-11-20")
    assert status(screen(q), "inc-8") == "fail"


@pytest.mark.parametrize(("birth", "applicable"), [("1971-11-25", False), ("1971-11-26", True)])
def test_women_55_and_over_are_not_of_childbearing_potential(birth: str, applicable: bool) -> None:
    r = screen(woman(birth))  # 55 today / 54 today
    assert status(r, "inc-7") == ("unknown" if applicable else "pass")
    assert status(r, "inc-8") == ("unknown" if applicable else "pass")
    if not applicable:
        assert "not applicable" in result(r, "inc-8").reason


@pytest.mark.parametrize(
    ("code", "system", "clinical"),
    [
        ("Z90.71", "http://hl7.org/fhir/sid/icd-10-cm", "active"),
        ("Z90.710", "http://hl7.org/fhir/sid/icd-10-cm", "active"),
        ("Z90.72", "http://hl7.org/fhir/sid/icd-10-cm", "inactive"),
        ("Z90.73", ICD10, "resolved"),
        ("N95.1", "http://hl7.org/fhir/sid/icd-10-cm", "active"),
        ("Z78.0", "http://hl7.org/fhir/sid/icd-10-cm", None),
    ],
)
def test_hysterectomy_oophorectomy_or_menopause_condition_any_status(code: str, system: str, clinical: str | None) -> None:
    p = woman()
    p.condition(code, system=system, onset="2020-01-01", clinical_status=clinical)
    r = screen(p)
    assert status(r, "inc-7") == "pass"
    assert status(r, "inc-8") == "pass"


def test_hysterectomy_procedure() -> None:
    p = woman()
    p.procedure(SNOMED, "236886002", when="2019-05-01")
    r = screen(p)
    assert status(r, "inc-7") == "pass" and status(r, "inc-8") == "pass"


def test_hysterectomy_not_done_or_after_as_of_does_not_count() -> None:
    p = woman()
    p.procedure(SNOMED, "236886002", when="2019-05-01", status="not-done")
    p.procedure(SNOMED, "236886002", when="2026-12-01")
    assert status(screen(p), "inc-7") == "unknown"


def test_refuted_menopause_does_not_count() -> None:
    p = woman()
    p.condition("N95.1", onset="2020-01-01", verification="refuted")
    assert status(screen(p), "inc-7") == "unknown"


def test_female_without_birth_date_is_applicable() -> None:
    p = woman(birth=None)
    r = screen(p)
    assert status(r, "inc-7") == "unknown"
    assert status(r, "inc-8") == "unknown"
    p.observation(SERUM, value_code=NEGATIVE, when="2026-11-24")
    p.attestation({"inc-8": True}, authored="2026-11-24")
    r = screen(p)
    assert status(r, "inc-7") == "pass" and status(r, "inc-8") == "pass"
    assert "not applicable" not in result(r, "inc-7").reason


def test_pregnancy_test_of_a_man_is_ignored() -> None:
    p = patient(gender="male")
    p.observation(SERUM, value_code=POSITIVE, when="2026-11-24")
    assert status(screen(p), "inc-7") == "pass"


def test_attestation_ignored_when_not_applicable() -> None:
    p = woman("1960-01-01")
    p.attestation({"inc-8": False, "inc-7": False}, authored="2026-11-20")
    r = screen(p)
    assert status(r, "inc-8") == "pass"
    assert status(r, "inc-7") == "pass"
    assert not any(e.resource.startswith("QuestionnaireResponse/") for e in result(r, "inc-8").evidence)
