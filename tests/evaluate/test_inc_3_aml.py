"""inc-3: relapsed or refractory AML, read from ICD-10 phase digits and clinical status."""

from __future__ import annotations

import pytest
from evaluate_support import patient, result, screen, status

from trialscreen.fhir.builder import ICD10, SNOMED


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("C92.02", "pass"),  # in relapse
        ("C92.A2", "pass"),
        ("C93.02", "pass"),
        ("C94.02", "pass"),
        ("C92.01", "fail"),  # in remission
        ("C92.A1", "fail"),
        ("C92.00", "unknown"),  # not having achieved remission: phase not recorded
        ("C92.30", "unknown"),
        ("C92.0", "unknown"),
        ("C94.20", "unknown"),
        ("C9202", "pass"),  # without the dot
    ],
)
def test_phase_from_fifth_character(code: str, expected: str) -> None:
    p = patient()
    p.condition(code, onset="2025-01-01")
    assert status(screen(p), "inc-3") == expected


def test_who_icd10_c92_0_active_is_unknown() -> None:
    p = patient()
    p.condition("C92.0", system=ICD10, onset="2025-01-01", clinical_status="active")
    r = screen(p)
    assert status(r, "inc-3") == "unknown"
    assert "relapsed or refractory status not recorded" in result(r, "inc-3").reason


@pytest.mark.parametrize("clinical", ["relapse", "recurrence"])
def test_clinical_status_relapse_passes(clinical: str) -> None:
    p = patient()
    p.condition("C92.0", system=ICD10, onset="2025-01-01", clinical_status=clinical)
    assert status(screen(p), "inc-3") == "pass"


def test_clinical_status_remission_fails() -> None:
    p = patient()
    p.condition("C92.00", onset="2025-01-01", clinical_status="remission")
    assert status(screen(p), "inc-3") == "fail"


@pytest.mark.parametrize("clinical", ["inactive", "resolved"])
def test_inactive_or_resolved_aml_is_not_considered(clinical: str) -> None:
    p = patient()
    p.condition("C92.02", onset="2025-01-01", clinical_status=clinical)
    assert status(screen(p), "inc-3") == "fail"


def test_no_clinical_status_is_considered() -> None:
    p = patient()
    p.condition("C92.02", onset="2025-01-01", clinical_status=None)
    assert status(screen(p), "inc-3") == "pass"


def test_abated_aml_is_ignored_but_abatement_after_as_of_is_not() -> None:
    p = patient()
    p.condition("C92.02", onset="2025-01-01", abatement="2026-11-25")
    assert status(screen(p), "inc-3") == "fail"
    q = patient()
    q.condition("C92.02", onset="2025-01-01", abatement="2026-11-26")
    assert status(screen(q), "inc-3") == "pass"


def test_any_relapsed_wins_over_remission_and_unclear() -> None:
    p = patient()
    p.condition("C92.01", onset="2024-01-01")
    p.condition("C92.00", onset="2024-06-01")
    p.condition("C92.02", onset="2025-01-01")
    assert status(screen(p), "inc-3") == "pass"


def test_unclear_wins_over_remission() -> None:
    p = patient()
    p.condition("C92.01", onset="2024-01-01")
    p.condition("C92.00", onset="2024-06-01")
    assert status(screen(p), "inc-3") == "unknown"


def test_no_aml_fails_with_closed_world_reason() -> None:
    r = screen(patient())
    assert status(r, "inc-3") == "fail"
    assert "no record" in result(r, "inc-3").reason


@pytest.mark.parametrize("code", ["C92.40", "C92.42", "C92.4", "C92.10", "C91.02", "C95.02"])
def test_apl_and_other_leukaemias_are_not_aml(code: str) -> None:
    p = patient()
    p.condition(code, onset="2025-01-01", clinical_status="relapse")
    assert status(screen(p), "inc-3") == "fail"


def test_aml_diagnosed_after_as_of_is_ignored() -> None:
    p = patient()
    p.condition("C92.02", onset="2026-11-26")
    assert status(screen(p), "inc-3") == "fail"


def test_refuted_aml_is_ignored() -> None:
    p = patient()
    p.condition("C92.02", onset="2025-01-01", verification="refuted")
    assert status(screen(p), "inc-3") == "fail"


def test_snomed_aml_is_not_in_the_default_value_set() -> None:
    p = patient()
    p.condition("91861009", system=SNOMED, onset="2025-01-01", clinical_status="relapse")
    assert status(screen(p), "inc-3") == "fail"


def test_attestation_decides_unrecorded_phase() -> None:
    p = patient()
    p.condition("C92.00", onset="2025-01-01")
    p.attestation({"inc-3": True}, authored="2026-11-20")
    r = screen(p)
    assert status(r, "inc-3") == "pass"
    assert any(e.resource.startswith("QuestionnaireResponse/") for e in result(r, "inc-3").evidence)


def test_attestation_does_not_override_remission() -> None:
    p = patient()
    p.condition("C92.01", onset="2025-01-01")
    p.attestation({"inc-3": True}, authored="2026-11-20")
    r = screen(p)
    assert status(r, "inc-3") == "fail"
    assert "record wins" in result(r, "inc-3").reason
    assert any("inc-3" in w for w in r.warnings)
