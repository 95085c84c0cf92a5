"""Unit conversion: UCUM factors, analyte aliases and molar factors from the knowledge data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialscreen.knowledge import knowledge
from trialscreen.units import UnitError, converter, factor_to, ucum_factor


@pytest.mark.parametrize(("source", "target", "factor"), [
    ("U/L", "U/L", 1.0),
    ("ukat/L", "U/L", 60.0),
    ("nkat/L", "U/L", 0.06),
    ("umol/L", "mmol/L", 0.001),
    ("mL/s", "mL/min", 60.0),
    ("g/dL", "g/L", 10.0),
    ("mg/dL", "g/L", 0.01),
    ("1", "%", 100.0),
    ("%", "1", 0.01),
    ("10*3/uL", "10*9/L", 1.0),
    ("/uL", "10*9/L", 0.001),
    ("10*3/mm3", "10*9/L", 1.0),
    ("10*6/L", "10*9/L", 0.001),
    ("[lb_av]", "kg", 0.45359237),
    ("g", "kg", 0.001),
    ("{copies}/uL", "{copies}/mL", 1000.0),
    ("L/min", "mL/min", 1000.0),
])
def test_ucum_factors(source: str, target: str, factor: float) -> None:
    assert ucum_factor(source, target) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize(("source", "target"), [
    ("mg/dL", "U/L"),
    ("[IU]/mL", "{copies}/mL"),
    ("{copies}/mL", "[IU]/mL"),
    ("[IU]/L", "U/L"),  # the same only for enzymes, by the analyte's aliases, not by UCUM
    ("kg", "%"),
    ("not a unit", "g/L"),
    ("", "g/L"),
    ("g/L)", "g/L"),
])
def test_unconvertible_units_raise_unit_error(source: str, target: str) -> None:
    with pytest.raises(UnitError):
        ucum_factor(source, target)


@pytest.mark.parametrize(("analyte", "unit", "factor"), [
    ("ast", "U/L", 1.0),
    ("ast", "[IU]/L", 1.0),
    ("alt", "IU/L", 1.0),
    ("ast", "ukat/L", 60.0),
    ("bilirubin", "umol/L", 1 / 17.1),
    ("bilirubin", "mg/dL", 1.0),
    ("bilirubin", "mg/L", 0.1),
    ("bilirubin", "mmol/L", 1000 / 17.1),
    ("creatinine", "umol/L", 1 / 88.4),
    ("creatinine", "mmol/L", 1000 / 88.4),
    ("creatinine_clearance", "mL/s", 60.0),
    ("hemoglobin", "g/dL", 10.0),
    ("hemoglobin", "mmol/L", 16.11),
    ("spo2", "1", 100.0),
    ("lvef", "1", 100.0),
    ("cmv_dna", "copies/mL", 1.0),
    ("cmv_dna", "{copies}/mL", 1.0),
    ("wbc", "10*3/uL", 1.0),
    ("wbc", "/uL", 0.001),
    ("wbc", "10*3/mm3", 1.0),
    ("weight", "[lb_av]", 0.45359237),
    ("weight", "g", 0.001),
])
def test_analyte_factors_to_the_compared_unit(analyte: str, unit: str, factor: float) -> None:
    assert factor_to(knowledge().analyte(analyte), unit) == pytest.approx(factor, rel=1e-9)


def test_molar_factor_applies_to_the_target_unit_too() -> None:
    bili = knowledge().analyte("bilirubin")
    assert factor_to(bili, "mg/dL", "umol/L") == pytest.approx(17.1, rel=1e-9)
    crea = knowledge().analyte("creatinine")
    assert factor_to(crea, "umol/L", "umol/L") == 1.0


@pytest.mark.parametrize(("analyte", "unit"), [
    ("cmv_dna", "[IU]/mL"),
    ("hemoglobin", "%"),
    ("ast", "mg/dL"),
    ("ast", "[IU]/mL/h"),
    ("wbc", "g/L"),
    ("weight", "cm"),
    ("hemoglobin", None),
    ("hemoglobin", "  "),
])
def test_analyte_unconvertible_units_name_the_unit(analyte: str, unit: str | None) -> None:
    a = knowledge().analyte(analyte)
    with pytest.raises(UnitError) as err:
        factor_to(a, unit)
    if unit and unit.strip():
        assert unit in str(err.value)
    assert converter(a, unit) is None


def test_failures_are_cached_but_still_raise() -> None:
    a = knowledge().analyte("cmv_dna")
    for _ in range(3):
        with pytest.raises(UnitError):
            factor_to(a, "[IU]/mL")


@given(st.sampled_from(["g/L", "g/dL", "mg/dL", "mmol/L", "g/mL"]), st.sampled_from(["g/L", "g/dL", "mg/dL", "mmol/L", "g/mL"]))
def test_hemoglobin_factors_compose(a: str, b: str) -> None:
    hb = knowledge().analyte("hemoglobin")
    assert factor_to(hb, a, b) * factor_to(hb, b, a) == pytest.approx(1.0, rel=1e-9)
    assert factor_to(hb, a) == pytest.approx(factor_to(hb, a, b) * factor_to(hb, b), rel=1e-9)
