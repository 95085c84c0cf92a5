"""exc-5: cardiac disease within 12 months: MI, coronary stents, unstable angina, AF, HF with NYHA >= II."""

from __future__ import annotations

from datetime import date

import pytest
from evaluate_support import AS_OF, patient, result, screen, status

from trialscreen.fhir.builder import CPT, SNOMED, PatientBuilder

NYHA = "88020-3"


def with_nyha(p: PatientBuilder, **kw: object) -> None:
    p.observation(NYHA, when="2026-11-01", category="survey", **kw)


# --- myocardial infarction: by its date alone --------------------------------------------------


@pytest.mark.parametrize(("onset", "expected", "eligible_from"), [
    ("2025-11-26", "fail", date(2026, 11, 26)),
    ("2025-11-25", "pass", None),  # 2025-11-25 + 12 months = as-of date: outside
    ("2026-06-01", "fail", date(2027, 6, 1)),
])
@pytest.mark.parametrize("clinical", ["active", "resolved", "inactive", None])
def test_mi_counts_by_date_whatever_its_status(onset: str, expected: str, eligible_from: date | None, clinical: str | None) -> None:
    p = patient()
    p.condition("I21.4", onset=onset, clinical_status=clinical, abatement="2026-07-01" if clinical == "resolved" else None)
    r = screen(p)
    assert status(r, "exc-5") == expected
    assert result(r, "exc-5").eligible_from == eligible_from


def test_mi_without_onset_uses_recorded_date() -> None:
    p = patient()
    res = p.condition("I22.0", recorded="2026-01-10")
    assert "onsetDateTime" not in res
    r = screen(p)
    assert status(r, "exc-5") == "fail"
    assert result(r, "exc-5").eligible_from == date(2027, 1, 10)


def test_old_mi_active_status_does_not_count() -> None:
    p = patient()
    p.condition("I21.9", onset="2020-01-01", clinical_status="active")
    assert status(screen(p), "exc-5") == "pass"


def test_mi_after_as_of_ignored() -> None:
    p = patient()
    p.condition("I21.9", onset="2026-11-26")
    assert status(screen(p), "exc-5") == "pass"


# --- coronary angioplasty or stent --------------------------------------------------------------


@pytest.mark.parametrize(("system", "code", "counts"), [
    (CPT, "92920", True), (CPT, "92944", True), (CPT, "92928", True), (CPT, "92945", False), (CPT, "92919", False),
    (SNOMED, "415070008", True), (SNOMED, "36969009", True), (SNOMED, "92920", False),
])
def test_coronary_procedures_within_12_months(system: str, code: str, counts: bool) -> None:
    p = patient()
    p.procedure(system, code, when="2026-03-31")
    r = screen(p)
    assert status(r, "exc-5") == ("fail" if counts else "pass")
    assert result(r, "exc-5").eligible_from == (date(2027, 3, 31) if counts else None)


def test_stent_window_edge() -> None:
    p = patient()
    p.procedure(CPT, "92928", when="2025-11-25")
    assert status(screen(p), "exc-5") == "pass"
    assert status(screen(p, date(2026, 11, 24)), "exc-5") == "fail"


def test_stent_not_done_ignored() -> None:
    p = patient()
    p.procedure(CPT, "92928", when="2026-06-01", status="not-done")
    assert status(screen(p), "exc-5") == "pass"


# --- unstable angina and atrial fibrillation ---------------------------------------------------


@pytest.mark.parametrize("code", ["I48.0", "I48.91", "I48.2", "I20.0"])
def test_active_af_or_unstable_angina_fails_with_no_eligible_from(code: str) -> None:
    p = patient()
    p.condition(code, onset="2015-01-01", clinical_status="active")
    r = screen(p)
    assert status(r, "exc-5") == "fail"
    assert result(r, "exc-5").eligible_from is None
    assert r.eligible_from is None


@pytest.mark.parametrize(("dates", "expected", "eligible_from"), [
    ({"onset": "2015-01-01", "abatement": "2026-02-01"}, "fail", date(2027, 2, 1)),  # abatement within 12 months
    ({"onset": "2015-01-01", "abatement": "2025-11-25"}, "pass", None),
    ({"onset": "2026-01-15", "abatement": "2026-01-20"}, "fail", date(2027, 1, 20)),
    ({"onset": "2015-01-01", "recorded": "2026-03-03", "abatement": "2015-02-01"}, "fail", date(2027, 3, 3)),
])
def test_resolved_af_within_12_months(dates: dict[str, str], expected: str, eligible_from: date | None) -> None:
    p = patient()
    p.condition("I48.91", clinical_status="resolved", **dates)
    r = screen(p)
    assert status(r, "exc-5") == expected
    assert result(r, "exc-5").eligible_from == eligible_from


def test_stable_angina_is_not_unstable_angina() -> None:
    p = patient()
    p.condition("I20.9", onset="2026-06-01")
    p.condition("I20.8", onset="2026-06-01")
    assert status(screen(p), "exc-5") == "pass"


def test_active_af_with_recent_mi_still_has_no_eligible_from() -> None:
    p = patient()
    p.condition("I48.0", onset="2015-01-01", clinical_status="active")
    p.condition("I21.4", onset="2026-06-01")
    r = screen(p)
    assert status(r, "exc-5") == "fail"
    assert result(r, "exc-5").eligible_from is None


def test_latest_date_decides_eligible_from() -> None:
    p = patient()
    p.condition("I21.4", onset="2026-02-01")
    p.procedure(CPT, "92928", when="2026-05-01")
    p.condition("I48.0", onset="2026-03-01", clinical_status="resolved", abatement="2026-04-01")
    r = screen(p)
    assert result(r, "exc-5").eligible_from == date(2027, 5, 1)


# --- heart failure with NYHA class >= II ---------------------------------------------------------


@pytest.mark.parametrize(("nyha", "expected"), [
    ({"value_integer": 1}, "pass"),
    ({"value_integer": 2}, "fail"),
    ({"value_integer": 4}, "fail"),
    ({"value_string": "I"}, "pass"),
    ({"value_string": "II"}, "fail"),
    ({"value_string": "Class III"}, "fail"),
    ({"value_string": "class iv"}, "fail"),
    ({"value_string": "Class I"}, "pass"),
    ({"value_string": "Class V"}, "unknown"),
    ({"value_string": "Class IIII"}, "unknown"),
    ({"value_string": "IIV"}, "unknown"),
    ({"value_string": "severe"}, "unknown"),
    ({"value_integer": 5}, "unknown"),
    ({"value_integer": 0}, "unknown"),
])
def test_active_heart_failure_by_nyha(nyha: dict[str, object], expected: str) -> None:
    p = patient()
    p.condition("I50.22", onset="2015-01-01", clinical_status="active")
    with_nyha(p, **nyha)
    r = screen(p)
    assert status(r, "exc-5") == expected
    assert result(r, "exc-5").eligible_from is None


@pytest.mark.parametrize(("text", "expected"), [("Class II", "fail"), ("I", "pass"), ("III", "fail")])
def test_nyha_in_concept_text(text: str, expected: str) -> None:
    p = patient()
    p.condition("I50.9", onset="2015-01-01")
    res = p.observation(NYHA, when="2026-11-01", value_code="420300004", category="survey")
    res["valueCodeableConcept"]["text"] = text
    assert status(screen(p), "exc-5") == expected


def test_heart_failure_without_nyha_is_unknown() -> None:
    p = patient()
    p.condition("I50.9", onset="2015-01-01")
    r = screen(p)
    assert status(r, "exc-5") == "unknown"
    assert result(r, "exc-5").missing


@pytest.mark.parametrize(("when", "expected"), [("2025-11-25", "fail"), ("2025-11-24", "unknown")])
def test_nyha_look_back_12_months(when: str, expected: str) -> None:
    p = patient()
    p.condition("I50.9", onset="2015-01-01")
    p.observation(NYHA, when=when, value_integer=3, category="survey")
    assert status(screen(p), "exc-5") == expected


def test_old_resolved_heart_failure_does_not_need_nyha() -> None:
    p = patient()
    p.condition("I50.9", onset="2015-01-01", clinical_status="resolved", abatement="2016-01-01")
    assert status(screen(p), "exc-5") == "pass"


def test_recently_resolved_heart_failure_with_nyha_ii_has_eligible_from() -> None:
    p = patient()
    p.condition("I50.9", onset="2015-01-01", clinical_status="resolved", abatement="2026-02-10")
    with_nyha(p, value_integer=2)
    r = screen(p)
    assert status(r, "exc-5") == "fail"
    assert result(r, "exc-5").eligible_from == date(2027, 2, 10)


def test_nyha_without_heart_failure_does_not_count() -> None:
    p = patient()
    with_nyha(p, value_integer=4)
    assert status(screen(p), "exc-5") == "pass"


def test_nyha_qualifies_heart_failure_only() -> None:
    # AF resolved long ago does not become significant because of an NYHA class
    p = patient()
    p.condition("I48.0", onset="2015-01-01", clinical_status="resolved", abatement="2016-01-01")
    with_nyha(p, value_integer=4)
    assert status(screen(p), "exc-5") == "pass"


def test_no_cardiac_history_passes_closed_world() -> None:
    r = screen(patient())
    assert status(r, "exc-5") == "pass"
    assert date(2026, 11, 25) == AS_OF


def test_recent_mi_and_active_heart_failure_class_iii_has_no_eligible_from() -> None:
    p = patient()
    p.condition("I21.4", onset="2026-06-01")
    p.condition("I50.9", onset="2020-01-01")
    with_nyha(p, value_string="III")
    r = screen(p)
    assert status(r, "exc-5") == "fail"
    assert result(r, "exc-5").eligible_from is None
