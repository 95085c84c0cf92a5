"""inc-1 (research consent) and inc-2 (age 18-70 in completed years)."""

from __future__ import annotations

from datetime import date

import pytest
from evaluate_support import patient, result, screen, status

from trialscreen.fhir.builder import CONSENT_SCOPE, V3_ACT_CODE, PatientBuilder


def test_active_research_consent_on_or_before_as_of_passes() -> None:
    p = patient()
    p.consent(when="2026-11-25")
    r = screen(p)
    assert status(r, "inc-1") == "pass"
    assert result(r, "inc-1").evidence[0].resource.startswith("Consent/")


def test_no_consent_is_unknown_not_fail() -> None:
    r = screen(patient())
    assert status(r, "inc-1") == "unknown"
    assert "consent not yet recorded" in result(r, "inc-1").reason


def test_consent_signed_after_as_of_is_ignored() -> None:
    p = patient()
    p.consent(when="2026-11-26")
    assert status(screen(p), "inc-1") == "unknown"
    assert status(screen(p, date(2026, 11, 26)), "inc-1") == "pass"


@pytest.mark.parametrize("consent_status", ["proposed", "inactive", "rejected", "draft", "entered-in-error"])
def test_consent_not_active_is_ignored(consent_status: str) -> None:
    p = patient()
    p.consent(when="2026-11-01", status=consent_status)
    assert status(screen(p), "inc-1") == "unknown"


def test_consent_of_another_scope_is_not_research_consent() -> None:
    p = patient()
    p.consent(when="2026-11-01", scope="patient-privacy")
    assert status(screen(p), "inc-1") == "unknown"


def test_research_by_v3_actcode_category_counts() -> None:
    p = patient()
    p.consent(when="2026-11-01", scope="treatment", category=(V3_ACT_CODE, "RESEARCH"))
    assert status(screen(p), "inc-1") == "pass"


def test_research_code_under_another_system_does_not_count() -> None:
    p = patient()
    p.consent(when="2026-11-01", scope="treatment", category=("http://example.org/codes", "research"))
    assert status(screen(p), "inc-1") == "unknown"
    assert CONSENT_SCOPE != "http://example.org/codes"


# --- inc-2 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "expected"),
    [
        ("2008-11-25", "pass"),  # 18th birthday today
        ("2008-11-26", "fail"),  # 18 tomorrow: 17 today
        ("1955-11-26", "pass"),  # 71 tomorrow: still 70
        ("1955-11-25", "fail"),  # 71st birthday today
        ("1980-06-15", "pass"),
    ],
)
def test_age_in_completed_years(birth_date: str, expected: str) -> None:
    r = screen(patient(birth_date=birth_date))
    assert status(r, "inc-2") == expected


def test_leap_day_birthday_completes_a_year_on_march_first() -> None:
    p = patient(birth_date="2008-02-29")
    assert status(screen(p, date(2026, 2, 28)), "inc-2") == "fail"
    assert status(screen(p, date(2026, 3, 1)), "inc-2") == "pass"


def test_no_birth_date_is_unknown() -> None:
    r = screen(patient(birth_date=None))
    assert status(r, "inc-2") == "unknown"
    assert result(r, "inc-2").missing


def test_unreadable_birth_date_is_unknown_and_reported() -> None:
    p = PatientBuilder("bad", birth_date="15/06/1980", gender="male")
    r = screen(p)
    assert status(r, "inc-2") == "unknown"
    assert any("birthDate" in w for w in r.warnings)


def test_age_evidence_names_the_patient() -> None:
    r = screen(patient())
    ev = result(r, "inc-2").evidence[0]
    assert ev.resource == "Patient/p" and ev.value == 46


@pytest.mark.parametrize(
    ("birth_date", "expected"),
    [
        ("2008", "unknown"),  # 17 or 18 on 2026-11-25
        ("2007", "pass"),  # 18 or 19
        ("2008-10", "pass"),  # 18 whatever the day
        ("2008-11", "unknown"),  # 18 if born by the 25th, else 17
        ("2008-12", "fail"),  # 17
        ("1955", "unknown"),  # 70 or 71
        ("1956", "pass"),  # 69 or 70
        ("1955-12", "pass"),  # 70
    ],
)
def test_partial_birth_date_decides_only_when_every_day_it_can_mean_agrees(birth_date: str, expected: str) -> None:
    r = screen(patient(birth_date=birth_date))
    assert status(r, "inc-2") == expected
    if expected == "unknown":
        assert "partial" in result(r, "inc-2").reason


@pytest.mark.parametrize(("birth_date", "applicable"), [("1971-11", None), ("1971-10", False), ("1972", True), ("1971", None)])
def test_partial_birth_date_and_childbearing_potential(birth_date: str, applicable: bool | None) -> None:
    # 55 decides: a woman born in 1971-11 is 54 or 55 on 2026-11-25, so inc-7 applies (unknown age)
    r = screen(patient(birth_date=birth_date, gender="female"))
    not_applicable = "not applicable" in result(r, "inc-7").reason
    assert not_applicable is (applicable is False)
