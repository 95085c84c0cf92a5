"""Exclusions decided by any record, any time (closed world): exc-1, 2, 4, 6, 15; and 9, 13 (active)."""

from __future__ import annotations

import pytest
from evaluate_support import patient, result, screen, status

from trialscreen.fhir.builder import CPT, ICD10, ICD10CM, SNOMED, PatientBuilder


def with_condition(code: str, clinical: str | None = "resolved", system: str = ICD10CM, abatement: str | None = None) -> PatientBuilder:
    p = patient()
    p.condition(code, system=system, onset="2015-01-01", clinical_status=clinical, abatement=abatement)
    return p


def exc(code: str, criterion: str, clinical: str | None = "resolved", system: str = ICD10CM, abatement: str | None = None) -> str:
    return status(screen(with_condition(code, clinical, system, abatement)), criterion)


@pytest.mark.parametrize("criterion", ["exc-1", "exc-2", "exc-4", "exc-6", "exc-9", "exc-13", "exc-15"])
def test_closed_world_pass_says_no_record(criterion: str) -> None:
    r = screen(patient())
    assert status(r, criterion) == "pass"
    assert "no record" in result(r, criterion).reason


@pytest.mark.parametrize("code", ["C92.4", "C92.40", "C92.41", "C92.42", "C924"])
@pytest.mark.parametrize("clinical", ["active", "remission", "resolved", None])
def test_exc1_apl_any_status(code: str, clinical: str | None) -> None:
    assert exc(code, "exc-1", clinical) == "fail"


def test_exc1_who_icd10_apl() -> None:
    assert exc("C92.4", "exc-1", system=ICD10) == "fail"


@pytest.mark.parametrize(
    "code",
    ["G00.1", "G09", "G10", "G14", "G20", "G20.A1", "G30.1", "G35", "G37.9", "G40.909", "G41.0", "G45.9",
     "G46.3", "G80.0", "G83.4", "G91.1", "G93.6", "G96.0", "C70.0", "C71.9", "C72.0", "C79.31", "D33.2",
     "D43.0", "I60.9", "I63.50", "I69.30", "F01.50", "F03.90"],
)
def test_exc2_cns_disorders_any_time_any_status(code: str) -> None:
    assert exc(code, "exc-2", "resolved") == "fail"


@pytest.mark.parametrize(
    "code",
    ["G43.909", "G44.1", "G47.33", "G50.0", "G56.00", "G62.9", "G70.00", "G73.3", "G89.29",
     "G15", "G27", "G33", "G34", "G38", "G42", "G47", "G84", "G90.0", "G97.1", "C73", "C79.4",
     "D32.0", "D44.0", "I59", "I70.0", "F04", "F00"],
)
def test_exc2_not_cns_disorders(code: str) -> None:
    assert exc(code, "exc-2", "active") == "pass"


def test_exc2_condition_after_as_of_is_ignored() -> None:
    p = patient()
    p.condition("G35", onset="2026-12-01")
    assert status(screen(p), "exc-2") == "pass"


@pytest.mark.parametrize("code", ["T78.00XA", "T78.2XXA", "T80.52XA", "T88.6XXA", "T78.0", "T88.6"])
def test_exc4_hypersensitivity_conditions(code: str) -> None:
    assert exc(code, "exc-4", "resolved") == "fail"


@pytest.mark.parametrize("code", ["T78.1XXA", "T78.3XXA", "T78.4", "T80.4", "T88.7"])
def test_exc4_other_reactions_are_not_severe_hypersensitivity(code: str) -> None:
    assert exc(code, "exc-4", "active") == "pass"


@pytest.mark.parametrize(
    ("criticality", "severity", "clinical", "expected"),
    [
        ("high", None, "active", "fail"),
        ("high", None, "resolved", "fail"),  # any clinical status
        (None, "severe", "inactive", "fail"),
        ("low", "severe", "active", "fail"),
        ("low", "moderate", "active", "pass"),
        ("unable-to-assess", "mild", "active", "pass"),
        (None, None, "active", "pass"),
    ],
)
def test_exc4_allergies(criticality: str | None, severity: str | None, clinical: str, expected: str) -> None:
    p = patient()
    p.allergy("91936005", criticality=criticality, severity=severity, clinical_status=clinical, text="penicillin")
    assert status(screen(p), "exc-4") == expected


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_exc4_refuted_allergy_ignored(verification: str) -> None:
    p = patient()
    p.allergy("91936005", criticality="high", verification=verification)
    assert status(screen(p), "exc-4") == "pass"


@pytest.mark.parametrize(
    "code",
    ["Z94.0", "Z94.1", "Z94.2", "Z94.3", "Z94.4", "Z94.82", "Z94.83", "T86.10", "T86.11", "T86.21",
     "T86.31", "T86.40", "T86.49", "T86.850", "Z9401", "Z94.0"],
)
def test_exc6_organ_transplant_conditions(code: str) -> None:
    assert exc(code, "exc-6", "resolved") == "fail"


@pytest.mark.parametrize("code", ["Z94.81", "Z94.84", "Z94.5", "Z94.6", "Z94.7", "Z94.89", "T86.0", "T86.09", "T86.5", "T86.81", "T86.84", "T86.89"])
def test_exc6_stem_cell_and_other_tissue_transplants_are_not_organ(code: str) -> None:
    assert exc(code, "exc-6", "active") == "pass"


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (CPT, "50360", "fail"), (CPT, "50365", "fail"), (CPT, "50366", "pass"), (CPT, "50359", "pass"),
        (CPT, "47135", "fail"), (CPT, "33945", "fail"), (CPT, "32851", "fail"), (CPT, "32854", "fail"),
        (CPT, "32855", "pass"), (CPT, "48554", "fail"), (CPT, "38241", "pass"),
        (SNOMED, "70536003", "fail"), (SNOMED, "18027006", "fail"), (SNOMED, "32413006", "fail"),
        (SNOMED, "88039007", "fail"), (SNOMED, "47135", "pass"),
    ],
)
def test_exc6_transplant_procedures_any_time(system: str, code: str, expected: str) -> None:
    p = patient()
    p.procedure(system, code, when="2001-01-01")
    assert status(screen(p), "exc-6") == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("F10.10", "fail"), ("F10.20", "fail"), ("F10.239", "fail"), ("F11.10", "fail"), ("F12.20", "fail"),
        ("F13.10", "fail"), ("F14.20", "fail"), ("F15.10", "fail"), ("F16.20", "fail"), ("F18.10", "fail"),
        ("F18.20", "fail"), ("F19.10", "fail"), ("F19.20", "fail"),
        ("F17.210", "pass"), ("F17.200", "pass"), ("F10.90", "pass"), ("F11.90", "pass"), ("F10.0", "pass"),
    ],
)
def test_exc15_substance_abuse_any_status(code: str, expected: str) -> None:
    assert exc(code, "exc-15", "resolved") == expected


@pytest.mark.parametrize(
    "code", ["G61.0", "G12.21", "G35", "G36.0", "G37.3", "G04.91", "G93.6", "I67.83", "I60.9", "I61.0", "I63.9", "I64"]
)
def test_exc9_active_only(code: str) -> None:
    assert exc(code, "exc-9", "active") == "fail"
    assert exc(code, "exc-9", "recurrence") == "fail"
    assert exc(code, "exc-9", None) == "fail"
    assert exc(code, "exc-9", "resolved") == "pass"
    assert exc(code, "exc-9", "remission") == "pass"
    assert exc(code, "exc-9", "active", abatement="2026-11-25") == "pass"


@pytest.mark.parametrize("code", ["G61.1", "G12.20", "I65.2", "I67.82", "I69.30", "G93.5"])
def test_exc9_other_codes_do_not_count(code: str) -> None:
    assert exc(code, "exc-9", "active") == "pass"


@pytest.mark.parametrize("code", ["F20.9", "F25.0", "F29", "F30.10", "F31.9", "F32.2", "F32.3", "F33.2", "F33.3"])
def test_exc13_serious_mental_illness_active(code: str) -> None:
    assert exc(code, "exc-13", "active") == "fail"
    assert exc(code, "exc-13", "resolved") == "pass"


@pytest.mark.parametrize("code", ["F32.0", "F32.1", "F32.9", "F33.0", "F33.1", "F34.1", "F41.1", "F19.20"])
def test_exc13_other_mental_disorders_do_not_count(code: str) -> None:
    assert exc(code, "exc-13", "active") == "pass"
