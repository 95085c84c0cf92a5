"""inc-6: organ function, each part against its threshold, unit and ULN."""

from __future__ import annotations

from typing import Any

import pytest
from evaluate_support import RECENT, patient, result, screen, status

from trialscreen.fhir.builder import SNOMED, concept, quantity

AST, ALT, BILI, CREA, CRCL, HB, SPO2, LVEF, WEIGHT = (
    "1920-8", "1742-6", "1975-2", "2160-0", "2164-2", "718-7", "59408-5", "10230-1", "29463-7",
)


def one(code: str, value: float, unit: str, part: str, gender: str = "female", **kw: Any) -> str:
    p = patient(gender=gender)
    p.observation(code, value=value, unit=unit, when=kw.pop("when", RECENT), **kw)
    return status(screen(p), part)


# --- AST / ALT: <= 3 x ULN (default 40 U/L) -------------------------------------------


@pytest.mark.parametrize(("code", "part"), [(AST, "inc-6.ast"), (ALT, "inc-6.alt"), ("1920-8", "inc-6.ast")])
@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (120, "U/L", "pass"),
        (120.1, "U/L", "fail"),
        (120, "[IU]/L", "pass"),
        (121, "[IU]/L", "fail"),
        (2, "ukat/L", "pass"),  # x60 = 120 U/L
        (2.01, "ukat/L", "fail"),
        (2000, "nkat/L", "pass"),
    ],
)
def test_transaminases_against_default_uln(code: str, part: str, value: float, unit: str, expected: str) -> None:
    assert one(code, value, unit, part) == expected


def test_transaminase_uln_from_reference_range() -> None:
    assert one(AST, 105, "U/L", "inc-6.ast", ref_high=35) == "pass"
    assert one(AST, 106, "U/L", "inc-6.ast", ref_high=35) == "fail"
    # the reference range in another unit than the result: 0.5 ukat/L = 30 U/L, limit 90
    assert one(AST, 90, "U/L", "inc-6.ast", ref_high=0.5, ref_unit="ukat/L") == "pass"
    assert one(AST, 91, "U/L", "inc-6.ast", ref_high=0.5, ref_unit="ukat/L") == "fail"


def test_uln_evidence_names_its_source() -> None:
    p = patient()
    p.observation(AST, value=50, unit="U/L", when=RECENT, ref_high=35)
    p.observation(ALT, value=50, unit="U/L", when=RECENT)
    r = screen(p)
    assert "reference range" in (result(r, "inc-6.ast").evidence[0].threshold or "")
    assert "default" in (result(r, "inc-6.alt").evidence[0].threshold or "")


def test_reference_range_of_another_type_is_skipped() -> None:
    p = patient()
    res = p.observation(AST, value=100, unit="U/L", when=RECENT)
    treatment = concept("http://terminology.hl7.org/CodeSystem/referencerange-meaning", "treatment")
    res["referenceRange"] = [
        {"type": treatment, "high": quantity(10, "U/L")},  # would fail: 100 > 30
        {"type": concept("http://terminology.hl7.org/CodeSystem/referencerange-meaning", "normal"), "high": quantity(50, "U/L")},
    ]
    assert status(screen(p), "inc-6.ast") == "pass"  # 100 <= 3 x 50


def test_reference_range_without_unit_takes_the_results_unit() -> None:
    p = patient()
    res = p.observation(AST, value=1.9, unit="ukat/L", when=RECENT)
    res["referenceRange"] = [{"high": {"value": 0.6}}]  # 0.6 ukat/L = 36 U/L: limit 108 U/L
    assert status(screen(p), "inc-6.ast") == "fail"  # 1.9 ukat/L = 114 U/L


def test_unconvertible_reference_range_falls_back_to_default() -> None:
    assert one(AST, 120, "U/L", "inc-6.ast", ref_high=5, ref_unit="mg/dL") == "pass"
    assert one(AST, 121, "U/L", "inc-6.ast", ref_high=5, ref_unit="mg/dL") == "fail"


# --- bilirubin: <= 1.5 x ULN (default 1.2 mg/dL) --------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "unit", "expected"),
    [
        (BILI, 1.8, "mg/dL", "pass"),
        (BILI, 1.81, "mg/dL", "fail"),
        (BILI, 30.78, "umol/L", "pass"),  # 30.78 / 17.1 = 1.8 mg/dL exactly
        (BILI, 30.8, "umol/L", "fail"),
        ("14631-6", 1.9, "mg/dL", "fail"),
        ("42719-5", 1.0, "mg/dL", "pass"),
        (BILI, 18, "mg/L", "pass"),
    ],
)
def test_bilirubin(code: str, value: float, unit: str, expected: str) -> None:
    assert one(code, value, unit, "inc-6.bilirubin") == expected


def test_bilirubin_uln_in_umol_from_reference_range() -> None:
    assert one(BILI, 30, "umol/L", "inc-6.bilirubin", ref_high=20) == "pass"  # limit 30 umol/L
    assert one(BILI, 30.1, "umol/L", "inc-6.bilirubin", ref_high=20) == "fail"


def test_bilirubin_in_unconvertible_unit_is_unknown_naming_the_unit() -> None:
    p = patient()
    p.observation(BILI, value=1.0, unit="mmol/min", when=RECENT)
    r = screen(p)
    assert status(r, "inc-6.bilirubin") == "unknown"
    assert "mmol/min" in result(r, "inc-6.bilirubin").reason


# --- renal: creatinine <= 1.5 x ULN, or clearance >= 60 mL/min ---------------------------


@pytest.mark.parametrize(
    ("gender", "value", "unit", "expected"),
    [
        ("female", 1.5, "mg/dL", "pass"),  # default ULN 1.0 for everyone but males
        ("female", 1.51, "mg/dL", "unknown"),  # no clearance can be computed (no weight)
        ("male", 1.8, "mg/dL", "pass"),  # default ULN 1.2 for males
        ("male", 1.81, "mg/dL", "unknown"),
        ("other", 1.51, "mg/dL", "unknown"),
        ("other", 1.5, "mg/dL", "pass"),
        ("female", 132.6, "umol/L", "pass"),  # 132.6 / 88.4 = 1.5 mg/dL
        ("female", 133, "umol/L", "unknown"),
        ("male", 159.12, "umol/L", "pass"),  # 1.8 mg/dL
    ],
)
def test_creatinine_against_default_uln(gender: str, value: float, unit: str, expected: str) -> None:
    assert one(CREA, value, unit, "inc-6.renal", gender=gender) == expected


def test_creatinine_without_gender_uses_the_non_male_default() -> None:
    p = patient(gender=None)
    p.observation(CREA, value=1.6, unit="mg/dL", when=RECENT)
    assert status(screen(p), "inc-6.renal") == "unknown"


def test_creatinine_uln_from_reference_range_beats_default() -> None:
    assert one(CREA, 1.8, "mg/dL", "inc-6.renal", ref_high=1.2) == "pass"
    assert one(CREA, 160, "umol/L", "inc-6.renal", ref_high=110) == "pass"  # limit 165 umol/L


def renal(gender: str, birth: str, kg: float | None, scr: float, scr_unit: str = "mg/dL", kg_unit: str = "kg") -> str:
    p = patient(gender=gender, birth_date=birth)
    p.observation(CREA, value=scr, unit=scr_unit, when=RECENT)
    if kg is not None:
        p.observation(WEIGHT, value=kg, unit=kg_unit, when=RECENT, category="vital-signs")
    return status(screen(p), "inc-6.renal")


def test_cockcroft_gault_at_60_passes_for_a_man() -> None:
    # age 68, 120 kg, creatinine 2.0 mg/dL: (140-68) x 120 / (72 x 2) = 60 mL/min
    assert renal("male", "1958-06-15", 120, 2.0) == "pass"
    assert renal("male", "1958-06-15", 119, 2.0) == "fail"


def test_cockcroft_gault_x085_unless_male() -> None:
    # 130 kg: 65 mL/min for a man, 55.25 for anyone else
    assert renal("male", "1958-06-15", 130, 2.0) == "pass"
    assert renal("female", "1958-06-15", 130, 2.0) == "fail"
    assert renal("other", "1958-06-15", 130, 2.0) == "fail"


def test_cockcroft_gault_uses_age_in_completed_years() -> None:
    # born 1958-11-26: 67 on the as-of date, (140-67) x 120 / 144 = 60.8 >= 60
    assert renal("male", "1958-11-26", 119, 2.0) == "pass"


def test_cockcroft_gault_in_other_units() -> None:
    # 176.8 umol/L = 2.0 mg/dL; 265 lb = 120.2 kg, 119000 g = 119 kg
    assert renal("male", "1958-06-15", 265, 176.8, "umol/L", "[lb_av]") == "pass"
    assert renal("male", "1958-06-15", 119000, 176.8, "umol/L", "g") == "fail"


def test_cockcroft_gault_without_birth_date_is_unknown() -> None:
    assert renal("male", None, 120, 2.0) == "unknown"  # type: ignore[arg-type]


def test_weight_look_back_is_90_days() -> None:
    p = patient(gender="male", birth_date="1958-06-15")
    p.observation(CREA, value=2.0, unit="mg/dL", when=RECENT)
    p.observation(WEIGHT, value=120, unit="kg", when="2026-08-27", category="vital-signs")
    assert status(screen(p), "inc-6.renal") == "pass"
    q = patient(gender="male", birth_date="1958-06-15")
    q.observation(CREA, value=2.0, unit="mg/dL", when=RECENT)
    q.observation(WEIGHT, value=120, unit="kg", when="2026-08-26", category="vital-signs")
    assert status(screen(q), "inc-6.renal") == "unknown"


def test_cockcroft_gault_uses_latest_weight() -> None:
    p = patient(gender="male", birth_date="1958-06-15")
    p.observation(CREA, value=2.0, unit="mg/dL", when=RECENT)
    p.observation(WEIGHT, value=150, unit="kg", when="2026-10-01", category="vital-signs")
    p.observation(WEIGHT, value=100, unit="kg", when="2026-11-01", category="vital-signs")
    assert status(screen(p), "inc-6.renal") == "fail"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(60, "mL/min", "pass"), (59.9, "mL/min", "unknown"), (1, "mL/s", "pass"), (0.99, "mL/s", "unknown")],
)
def test_measured_clearance_passes_without_creatinine(value: float, unit: str, expected: str) -> None:
    assert one(CRCL, value, unit, "inc-6.renal") == expected


def test_measured_clearance_beats_cockcroft_gault() -> None:
    p = patient(gender="male", birth_date="1958-06-15")
    p.observation(CREA, value=2.0, unit="mg/dL", when=RECENT)
    p.observation(WEIGHT, value=200, unit="kg", when=RECENT, category="vital-signs")  # C-G: 100
    p.observation(CRCL, value=50, unit="mL/min", when=RECENT)
    r = screen(p)
    assert status(r, "inc-6.renal") == "fail"
    assert any("measured" in e.what for e in result(r, "inc-6.renal").evidence)


def test_unreadable_measured_clearance_falls_back_to_cockcroft_gault() -> None:
    p = patient(gender="male", birth_date="1958-06-15")
    p.observation(CREA, value=2.0, unit="mg/dL", when=RECENT)
    p.observation(WEIGHT, value=120, unit="kg", when=RECENT, category="vital-signs")
    p.observation(CRCL, value=10, unit="mg", when=RECENT)
    assert status(screen(p), "inc-6.renal") == "pass"


def test_good_creatinine_passes_whatever_the_clearance() -> None:
    p = patient()
    p.observation(CREA, value=1.0, unit="mg/dL", when=RECENT)
    p.observation(CRCL, value=20, unit="mL/min", when=RECENT)
    assert status(screen(p), "inc-6.renal") == "pass"


def test_no_creatinine_and_low_clearance_is_unknown() -> None:
    assert one(CRCL, 30, "mL/min", "inc-6.renal") == "unknown"


def test_no_renal_data_is_unknown() -> None:
    assert status(screen(patient()), "inc-6.renal") == "unknown"


# --- hemoglobin >= 60 g/L ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (60, "g/L", "pass"),
        (59.9, "g/L", "fail"),
        (6.0, "g/dL", "pass"),
        (5.99, "g/dL", "fail"),
        (3.73, "mmol/L", "pass"),  # x16.11 = 60.09
        (3.72, "mmol/L", "fail"),  # 59.93
        (6000, "mg/dL", "pass"),
    ],
)
def test_hemoglobin(value: float, unit: str, expected: str) -> None:
    assert one(HB, value, unit, "inc-6.hemoglobin") == expected


def test_hemoglobin_unit_as_text_only_is_read_as_ucum() -> None:
    assert one(HB, 5.9, "g/dL", "inc-6.hemoglobin", ucum=False) == "fail"
    assert one(HB, 6.1, "g/dL", "inc-6.hemoglobin", ucum=False) == "pass"


def test_hemoglobin_without_unit_is_unknown() -> None:
    p = patient()
    p.observation(HB, value=100, when=RECENT)
    assert status(screen(p), "inc-6.hemoglobin") == "unknown"


def test_hemoglobin_in_percent_is_unknown_naming_the_unit() -> None:
    p = patient()
    p.observation(HB, value=100, unit="%", when=RECENT)
    r = screen(p)
    assert status(r, "inc-6.hemoglobin") == "unknown"
    assert "%" in result(r, "inc-6.hemoglobin").reason


# --- SpO2 on room air >= 92 % --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(92, "%", "pass"), (91.9, "%", "fail"), (0.92, "1", "pass"), (0.919, "1", "fail")],
)
def test_spo2(value: float, unit: str, expected: str) -> None:
    assert one(SPO2, value, unit, "inc-6.spo2", category="vital-signs") == expected
    assert one("2708-6", value, unit, "inc-6.spo2", category="vital-signs") == expected


@pytest.mark.parametrize(
    ("component", "set_aside"),
    [
        (("3151-8", 2.0, "L/min"), True),
        (("3151-8", 0.0, "L/min"), False),
        (("3150-0", 21.0, "%"), False),
        (("3150-0", 21.5, "%"), True),
        (("3150-0", 0.4, "1"), True),
        (("3150-0", 0.21, "1"), False),
    ],
)
def test_spo2_on_supplemental_oxygen_is_set_aside(component: tuple[str, float, str], set_aside: bool) -> None:
    p = patient()
    p.observation(SPO2, value=88, unit="%", when="2026-11-10", category="vital-signs")
    p.observation(SPO2, value=97, unit="%", when=RECENT, category="vital-signs", components=[component])
    # on oxygen the newer 97 % is set aside and the older room-air 88 % decides
    assert status(screen(p), "inc-6.spo2") == ("fail" if set_aside else "pass")


def test_spo2_only_on_oxygen_is_unknown() -> None:
    p = patient()
    p.observation(SPO2, value=97, unit="%", when=RECENT, category="vital-signs", components=[("3151-8", 2.0, "L/min")])
    assert status(screen(p), "inc-6.spo2") == "unknown"


# --- LVEF >= 45 %, 90 days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(45, "%", "pass"), (44.9, "%", "fail"), (0.45, "1", "pass"), (0.44, "1", "fail")],
)
def test_lvef(value: float, unit: str, expected: str) -> None:
    assert one(LVEF, value, unit, "inc-6.lvef", category="imaging") == expected
    assert one("18043-0", value, unit, "inc-6.lvef") == expected
    assert one("8806-2", value, unit, "inc-6.lvef") == expected


@pytest.mark.parametrize(("when", "expected"), [("2026-08-27", "fail"), ("2026-08-26", "unknown")])
def test_lvef_look_back_90_days_first_day_counts(when: str, expected: str) -> None:
    assert one(LVEF, 30, "%", "inc-6.lvef", when=when) == expected


# --- every part: look-back, missing, compound -------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "unit", "part"),
    [(AST, 500, "U/L", "inc-6.ast"), (HB, 10, "g/L", "inc-6.hemoglobin"), (SPO2, 80, "%", "inc-6.spo2")],
)
@pytest.mark.parametrize(("when", "expected"), [("2026-10-28", "fail"), ("2026-10-27", "unknown"), ("2026-11-25", "fail"), ("2026-11-26", "unknown")])
def test_28_day_look_back_edges(code: str, value: float, unit: str, part: str, when: str, expected: str) -> None:
    assert one(code, value, unit, part, when=when) == expected


@pytest.mark.parametrize("part", ["inc-6.ast", "inc-6.alt", "inc-6.bilirubin", "inc-6.renal", "inc-6.hemoglobin", "inc-6.spo2", "inc-6.lvef"])
def test_required_tests_missing_are_unknown(part: str) -> None:
    r = screen(patient())
    assert status(r, part) == "unknown"
    assert result(r, part).missing


def test_inc6_fails_if_any_part_fails() -> None:
    p = patient()
    p.observation(HB, value=50, unit="g/L", when=RECENT)
    r = screen(p)
    assert status(r, "inc-6") == "fail"
    assert "inc-6.hemoglobin" in result(r, "inc-6").reason


def test_inc6_evidence_carries_value_unit_date_threshold() -> None:
    p = patient()
    p.observation(HB, value=9.5, unit="g/dL", when=RECENT)
    ev = result(screen(p), "inc-6.hemoglobin").evidence[0]
    assert ev.value == pytest.approx(95)
    assert ev.unit == "g/L" and ev.date == RECENT and ev.threshold and "60" in ev.threshold
    assert ev.resource.startswith("Observation/")


def test_snomed_coded_observation_with_a_loinc_lookalike_code_is_ignored() -> None:
    p = patient()
    res = p.observation(HB, value=10, unit="g/L", when=RECENT)
    res["code"] = concept(SNOMED, "718-7")
    assert status(screen(p), "inc-6.hemoglobin") == "unknown"


def test_cockcroft_gault_needs_an_exact_age() -> None:
    # born in 1958: 67 or 68 on the as-of date
    assert renal("male", "1958", 119, 2.0) == "unknown"
    assert renal("male", "1958-06", 119, 2.0) == "fail"


@pytest.mark.parametrize("code", ["2160-0", "38483-4", "14682-9"])
def test_every_creatinine_code(code: str) -> None:
    assert one(code, 1.5, "mg/dL", "inc-6.renal") == "pass"
    assert one(code, 1.51, "mg/dL", "inc-6.renal") == "unknown"


def test_result_without_a_value_is_unknown_and_reported() -> None:
    p = patient()
    res = p.observation(HB, when=RECENT)
    r = screen(p)
    assert status(r, "inc-6.hemoglobin") == "unknown"
    assert any(res["id"] in w for w in r.warnings)


def test_ucum_code_wins_over_the_unit_text() -> None:
    p = patient()
    res = p.observation(HB, value=5.5, unit="g/dL", when=RECENT)
    res["valueQuantity"]["unit"] = "grams per litre"  # display text; the UCUM code decides
    assert status(screen(p), "inc-6.hemoglobin") == "fail"


def test_unit_text_is_read_when_the_system_is_not_ucum() -> None:
    p = patient()
    res = p.observation(HB, value=65, unit="g/L", when=RECENT)
    res["valueQuantity"]["system"] = "http://example.org/units"
    res["valueQuantity"]["code"] = "g/dL"  # a local code: not UCUM, so the unit text is read
    assert status(screen(p), "inc-6.hemoglobin") == "pass"
