"""Results known only as a bound (Quantity.comparator "<500"): decided only when every value
the bound allows is on the same side of the threshold, never read as the bound itself."""

from __future__ import annotations

import pytest
from evaluate_support import RECENT, patient, result, screen, status

from trialscreen.fhir.builder import PatientBuilder


def bounded(p: PatientBuilder, code: str, value: float, unit: str, comparator: str) -> None:
    res = p.observation(code, value=value, unit=unit, when=RECENT)
    res["valueQuantity"]["comparator"] = comparator


@pytest.mark.parametrize(("comparator", "value", "expected"), [
    ("<", 500, "pass"), ("<", 20, "pass"), ("<=", 499, "pass"), ("<=", 500, "unknown"), ("<", 600, "unknown"),
    (">", 500, "fail"), (">=", 500, "fail"), (">", 499, "unknown"), (">=", 499.5, "unknown"), (">", 499.99, "unknown"),
])
def test_cmv_bounds(comparator: str, value: float, expected: str) -> None:
    p = patient()
    bounded(p, "30247-1", value, "{copies}/mL", comparator)
    r = screen(p)
    assert status(r, "exc-3.cmv") == expected
    if expected == "unknown":
        assert "only a bound" in result(r, "exc-3.cmv").reason


@pytest.mark.parametrize(("comparator", "value", "expected"), [
    ("<", 5, "pass"), ("<", 121, "unknown"), ("<=", 120, "pass"), (">", 120, "fail"), (">=", 120, "unknown"), (">", 5, "unknown"),
])
def test_transaminase_bounds(comparator: str, value: float, expected: str) -> None:
    p = patient()
    bounded(p, "1920-8", value, "U/L", comparator)
    assert status(screen(p), "inc-6.ast") == expected


def test_bound_in_another_unit() -> None:
    p = patient()
    bounded(p, "718-7", 6.5, "g/dL", ">")  # > 65 g/L
    assert status(screen(p), "inc-6.hemoglobin") == "pass"
    q = patient()
    bounded(q, "718-7", 6.5, "g/dL", "<")
    assert status(screen(q), "inc-6.hemoglobin") == "unknown"


@pytest.mark.parametrize(("comparator", "value", "expected"), [(">", 90, "pass"), (">=", 60, "pass"), ("<", 60, "unknown"), (">", 30, "unknown")])
def test_measured_clearance_bound_without_creatinine(comparator: str, value: float, expected: str) -> None:
    p = patient()
    bounded(p, "2164-2", value, "mL/min", comparator)
    assert status(screen(p), "inc-6.renal") == expected


def test_measured_clearance_below_60_with_high_creatinine_fails() -> None:
    p = patient()
    p.observation("2160-0", value=3.0, unit="mg/dL", when=RECENT)
    bounded(p, "2164-2", 60, "mL/min", "<")
    assert status(screen(p), "inc-6.renal") == "fail"


def test_bounded_creatinine_is_not_used_for_cockcroft_gault() -> None:
    p = patient(gender="male", birth_date="1958-06-15")
    bounded(p, "2160-0", 2.0, "mg/dL", ">")
    p.observation("29463-7", value=200, unit="kg", when=RECENT)
    r = screen(p)
    assert status(r, "inc-6.renal") == "unknown"


def test_unknown_comparator_is_unreadable() -> None:
    p = patient()
    bounded(p, "30247-1", 100, "{copies}/mL", "about")
    r = screen(p)
    assert status(r, "exc-3.cmv") == "unknown"
    assert any("comparator" in w for w in r.warnings)
