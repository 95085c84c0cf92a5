"""Unit factors for OMOP measurements, computed once per distinct unit and injected as data.

A measurement row carries `unit_concept_id` (a UCUM concept, whose `concept_code` is the UCUM
code) and `unit_source_value` (the unit as the source wrote it). The compiler asks the
database which (unit_concept_id, unit_source_value) pairs occur for an analyte's rows, turns
each into a factor to the analyte's compared unit through `trialscreen.units` (UCUM via
`ucumvert`, plus the analyte's aliases and molar mass from the knowledge), and joins the
resulting small table to the rows. No factor is written twice: the FHIR evaluator uses the
same converter. A unit that does not convert gets no factor (None), so the row is unreadable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from trialscreen.knowledge import Analyte
from trialscreen.units import UnitError, converter, ucum_factor

UCUM_VOCABULARY = "UCUM"
NO_UNIT = ""
"""Key used for a missing unit_source_value, so the factor table joins without NULL keys."""


@dataclass(frozen=True, slots=True)
class UnitFactor:
    unit_concept_id: int
    unit_source_value: str
    unit: str | None
    """The unit read (UCUM code of the concept, else the source value); None when absent."""
    factor: float | None


def unit_of(concept_code: str | None, source_value: str | None) -> str | None:
    """The unit a row is in: its UCUM concept's code, else its source text."""
    if concept_code:
        return concept_code
    if source_value and source_value.strip():
        return source_value.strip()
    return None


def distinct_units(concept: ir.Table, rows: ir.Table) -> list[tuple[int, int, int, str, str | None]]:
    """(concept_id, source_id, unit_concept_id, unit_source_value, UCUM code) occurring in `rows`.

    One query for every analyte at once; `units_of` then picks an analyte's units. The
    distinct runs over the raw unit columns, and missing units are keyed (`NO_UNIT`, 0) on
    the few distinct rows only, not on every result row (a fifth of this query's time).
    """
    keys = rows.select("concept_id", "source_id", "unit_concept_id", "unit_source_value").distinct()
    pairs = keys.select(
        concept_id=keys.concept_id,
        source_id=keys.source_id,
        unit_concept_id=keys.unit_concept_id.cast("int64").fill_null(0),
        unit_source_value=keys.unit_source_value.cast("string").fill_null(NO_UNIT),
    )
    concept = concept.filter(concept.vocabulary_id == UCUM_VOCABULARY)
    joined = pairs.left_join(concept, pairs.unit_concept_id == concept.concept_id).select(
        pairs.concept_id, pairs.source_id, pairs.unit_concept_id, pairs.unit_source_value, code=concept.concept_code
    )
    # a set: a NULL unit and a unit 0 (or '') are one key once filled
    out = {
        (int(r["concept_id"]), int(r["source_id"]), int(r["unit_concept_id"]), str(r["unit_source_value"]), r["code"])
        for r in joined.to_pyarrow().to_pylist()
    }
    return sorted(out, key=lambda r: (r[0], r[1], r[2], r[3]))


def units_of(
    found: Iterable[tuple[int, int, int, str, str | None]], ids: Iterable[int]
) -> list[tuple[int, str, str | None]]:
    """The (unit_concept_id, unit_source_value, UCUM code) of rows whose concept is one of `ids`."""
    wanted = set(ids)
    return sorted({(u, src, code) for c, s, u, src, code in found if c in wanted or s in wanted},
                  key=lambda r: (r[0], r[1]))


def analyte_factors(analyte: Analyte, units: Iterable[tuple[int, str, str | None]]) -> list[UnitFactor]:
    """Factor of each unit to the analyte's compared unit (None: does not convert).

    The UCUM concept's code is tried first, then the source text: OMOP's UCUM vocabulary
    spells international units `[iU]`, where records and the knowledge write `[IU]`.
    """
    out = []
    for concept_id, source, code in units:
        factor: float | None = None
        unit: str | None = None
        for candidate in (code, source):
            if candidate and candidate.strip():
                unit = unit or candidate.strip()
                factor = converter(analyte, candidate.strip())
                if factor is not None:
                    unit = candidate.strip()
                    break
        out.append(UnitFactor(concept_id, source, unit, factor))
    return out


def plain_factors(target: str, units: Iterable[tuple[int, str, str | None]]) -> list[UnitFactor]:
    """Factor of each unit to a UCUM unit, for values with no analyte (oxygen components)."""
    out = []
    for concept_id, source, code in units:
        unit = unit_of(code, source)
        factor: float | None = None
        if unit:
            try:
                factor = ucum_factor(unit, target)
            except UnitError:
                factor = None
        out.append(UnitFactor(concept_id, source, unit, factor))
    return out


def factor_expr(rows: ir.Table, factors: Iterable[UnitFactor]) -> ir.FloatingValue:
    """The factor of each row as a literal CASE over its unit keys (NULL: unreadable unit)."""
    concept_id = rows.unit_concept_id.cast("int64").fill_null(0)
    source = rows.unit_source_value.cast("string").fill_null(NO_UNIT)
    branches = [
        ((concept_id == f.unit_concept_id) & (source == f.unit_source_value), ibis.literal(f.factor, "float64"))
        for f in factors
        if f.factor is not None
    ]
    if not branches:
        return ibis.null("float64")
    expr: ir.FloatingValue = ibis.cases(*branches, else_=ibis.null("float64"))
    return expr
