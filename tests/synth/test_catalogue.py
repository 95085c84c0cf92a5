"""The generator's catalogue agrees with the project's knowledge of units."""

from __future__ import annotations

import pytest

from trialscreen.knowledge import knowledge
from trialscreen.synth.catalogue import Analyte, catalogue
from trialscreen.units import UnitError, factor_to

QUANTITIES = [a for a in catalogue().analytes if a.units]


@pytest.mark.parametrize("analyte", QUANTITIES, ids=lambda a: a.name)
def test_written_units_convert_back_to_the_compared_unit(analyte: Analyte) -> None:
    """A value drawn in the compared unit and written as value x factor reads back the same
    through the converter the evaluator uses, or is one the spec calls unconvertible."""
    known = knowledge().analyte(analyte.name)
    assert analyte.unit == known.unit
    for option in analyte.units:
        try:
            back = factor_to(known, option.unit)
        except UnitError:
            assert option.unit == "[IU]/mL", f"{analyte.name}: {option.unit} not convertible"
            continue
        assert back * option.factor == pytest.approx(1.0, rel=2e-3), option.unit


def test_analyte_codes_are_the_knowledge_codes() -> None:
    kb = knowledge()
    for a in catalogue().analytes:
        assert {c.code for c in kb.analyte(a.name).codes} == set(a.codes), a.name


def test_probabilities_are_probabilities() -> None:
    cat = catalogue()
    pairs = [e.p for e in cat.conditions] + [e.p for e in cat.procedures]
    pairs += [e.p for e in cat.medicines] + [e.p for e in cat.allergens]
    for p in pairs:
        assert ((p >= 0) & (p <= 1)).all()
    for a in cat.analytes:
        assert ((a.p_draw >= 0) & (a.p_draw <= 1)).all(), a.name
    assert 0.05 <= cat.aml_fraction <= 0.10
