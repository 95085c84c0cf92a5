"""exc-3: HBsAg, HCV, HIV, syphilis antibodies (qualitative) and CMV DNA load (quantity)."""

from __future__ import annotations

import pytest
from evaluate_support import RECENT, patient, result, screen, status

from trialscreen.fhir.builder import ICD10, LOINC

POSITIVE, NEGATIVE = "10828004", "260385009"
TESTS = [
    ("exc-3.hbv", "5196-1"), ("exc-3.hbv", "5195-3"),
    ("exc-3.hcv", "16128-1"), ("exc-3.hcv", "13955-0"),
    ("exc-3.hiv", "7917-8"), ("exc-3.hiv", "31201-7"), ("exc-3.hiv", "56888-1"),
    ("exc-3.syphilis", "20507-0"), ("exc-3.syphilis", "22587-0"),
]
READINGS = [
    ({"value_code": POSITIVE}, "fail"),
    ({"value_code": NEGATIVE}, "pass"),
    ({"interpretation": "POS"}, "fail"),
    ({"interpretation": "NEG"}, "pass"),
    ({"interpretation": "pos"}, "fail"),
    ({"value_string": "Reactive"}, "fail"),
    ({"value_string": "non-reactive"}, "pass"),
    ({"value_string": "NON-REACTIVE"}, "pass"),
    ({"value_string": "Detected"}, "fail"),
    ({"value_string": "not detected"}, "pass"),
    ({"value_string": "positive"}, "fail"),
    ({"value_string": "negative"}, "pass"),
    ({"value_string": "indeterminate"}, "unknown"),
    ({"value_string": "weakly reactive"}, "unknown"),
    ({"value_code": "42425007"}, "unknown"),  # SNOMED Equivocal
    ({"value_code": POSITIVE, "value_system": LOINC}, "unknown"),  # right code, wrong system
]


@pytest.mark.parametrize(("part", "code"), TESTS)
@pytest.mark.parametrize(("reading", "expected"), READINGS)
def test_qualitative_serologies(part: str, code: str, reading: dict[str, str], expected: str) -> None:
    p = patient()
    p.observation(code, when=RECENT, **reading)
    r = screen(p)
    assert status(r, part) == expected
    if expected == "fail":
        assert status(r, "exc-3") == "fail"


@pytest.mark.parametrize("part", ["exc-3.hbv", "exc-3.hcv", "exc-3.hiv", "exc-3.syphilis", "exc-3.cmv"])
def test_missing_serology_is_unknown(part: str) -> None:
    r = screen(patient())
    assert status(r, part) == "unknown"
    assert result(r, part).missing


@pytest.mark.parametrize(("when", "expected"), [("2026-10-28", "fail"), ("2026-10-27", "unknown")])
def test_serology_look_back_28_days(when: str, expected: str) -> None:
    p = patient()
    p.observation("5196-1", value_code=POSITIVE, when=when)
    assert status(screen(p), "exc-3.hbv") == expected


def test_latest_serology_decides() -> None:
    p = patient()
    p.observation("16128-1", value_code=POSITIVE, when="2026-11-01")
    p.observation("16128-1", value_code=NEGATIVE, when=RECENT)
    assert status(screen(p), "exc-3.hcv") == "pass"


def test_latest_unreadable_serology_is_unknown_even_with_an_older_readable_one() -> None:
    p = patient()
    p.observation("16128-1", value_code=NEGATIVE, when="2026-11-01")
    p.observation("16128-1", value_string="see comment", when=RECENT)
    r = screen(p)
    assert status(r, "exc-3.hcv") == "unknown"
    assert r.warnings


@pytest.mark.parametrize(
    ("part", "code", "clinical", "expected"),
    [
        ("exc-3.hbv", "B16.9", "active", "fail"),
        ("exc-3.hbv", "B17.0", "active", "fail"),
        ("exc-3.hbv", "B18.0", "active", "fail"),
        ("exc-3.hbv", "B18.1", "recurrence", "fail"),
        ("exc-3.hbv", "B19.10", None, "fail"),
        ("exc-3.hbv", "B18.1", "resolved", "unknown"),  # not active: the test decides (none here)
        ("exc-3.hbv", "B18.2", "active", "unknown"),  # hepatitis C is not HBV
        ("exc-3.hcv", "B17.10", "active", "fail"),
        ("exc-3.hcv", "B18.2", "active", "fail"),
        ("exc-3.hcv", "B19.20", "active", "fail"),
        ("exc-3.hcv", "B18.2", "inactive", "unknown"),
        ("exc-3.hiv", "B20", "active", "fail"),
        ("exc-3.hiv", "Z21", "active", "fail"),
        ("exc-3.hiv", "B20", "resolved", "fail"),  # any status
        ("exc-3.hiv", "Z21", "inactive", "fail"),
        ("exc-3.syphilis", "A50.9", "active", "fail"),
        ("exc-3.syphilis", "A51.0", "active", "fail"),
        ("exc-3.syphilis", "A53.9", "active", "fail"),
        ("exc-3.syphilis", "A54.9", "active", "unknown"),  # gonorrhoea is not syphilis
        ("exc-3.syphilis", "A53.9", "resolved", "unknown"),
    ],
)
def test_conditions_without_tests(part: str, code: str, clinical: str | None, expected: str) -> None:
    p = patient()
    p.condition(code, onset="2020-01-01", clinical_status=clinical)
    assert status(screen(p), part) == expected


@pytest.mark.parametrize(
    ("part", "code", "test"),
    [("exc-3.hbv", "B18.1", "5196-1"), ("exc-3.hcv", "B18.2", "16128-1"), ("exc-3.hiv", "B20", "7917-8"), ("exc-3.syphilis", "A52.3", "20507-0")],
)
def test_active_condition_fails_whatever_the_test_says(part: str, code: str, test: str) -> None:
    p = patient()
    p.condition(code, onset="2020-01-01", clinical_status="active")
    p.observation(test, value_code=NEGATIVE, when=RECENT)
    assert status(screen(p), part) == "fail"


def test_resolved_hepatitis_with_negative_test_passes() -> None:
    p = patient()
    p.condition("B18.1", onset="2020-01-01", clinical_status="resolved", abatement="2021-01-01")
    p.observation("5196-1", value_code=NEGATIVE, when=RECENT)
    assert status(screen(p), "exc-3.hbv") == "pass"


def test_who_icd10_condition_counts() -> None:
    p = patient()
    p.condition("B18.1", system=ICD10, onset="2020-01-01")
    assert status(screen(p), "exc-3.hbv") == "fail"


# --- CMV DNA: >= 500 copies/mL fails -------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"value": 500, "unit": "{copies}/mL"}, "fail"),
        ({"value": 499, "unit": "{copies}/mL"}, "pass"),
        ({"value": 500, "unit": "copies/mL", "ucum": False}, "fail"),
        ({"value": 499.9, "unit": "copies/mL", "ucum": False}, "pass"),
        ({"value": 0.5, "unit": "{copies}/uL"}, "fail"),  # 500 per mL
        ({"value": 500000, "unit": "{copies}/L"}, "fail"),
        ({"value_string": "not detected"}, "pass"),
        ({"value_code": NEGATIVE}, "pass"),
        ({"interpretation": "NEG"}, "pass"),
        ({"value_string": "detected"}, "unknown"),
        ({"value_code": POSITIVE}, "unknown"),
        ({"interpretation": "POS"}, "unknown"),
        ({"value": 100, "unit": "[IU]/mL"}, "unknown"),
        ({"value": 100000, "unit": "[IU]/mL"}, "unknown"),
    ],
)
def test_cmv(kw: dict[str, object], expected: str) -> None:
    for code in ("30247-1", "72493-0"):
        p = patient()
        p.observation(code, when=RECENT, **kw)
        assert status(screen(p), "exc-3.cmv") == expected, code


def test_cmv_in_iu_names_the_unit() -> None:
    p = patient()
    p.observation("30247-1", value=100, unit="[IU]/mL", when=RECENT)
    r = screen(p)
    assert "[IU]/mL" in result(r, "exc-3.cmv").reason


def test_cmv_detected_without_quantity_asks_for_a_quantity() -> None:
    p = patient()
    p.observation("30247-1", value_string="detected", when=RECENT)
    assert result(screen(p), "exc-3.cmv").missing


@pytest.mark.parametrize("system", ["http://example.org/flags", "http://snomed.info/sct"])
def test_interpretation_codes_match_only_under_the_hl7_system(system: str) -> None:
    p = patient()
    res = p.observation("5196-1", interpretation="POS", when=RECENT)
    res["interpretation"][0]["coding"][0]["system"] = system
    assert status(screen(p), "exc-3.hbv") == "unknown"
