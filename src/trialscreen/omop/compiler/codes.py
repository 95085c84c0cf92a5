"""Does a CDM row belong to a value set? Concept ids first, the source text as written second.

A row is in the set when its standard or source concept is one the vocabulary resolved, or,
when it has no source concept (`*_source_concept_id` 0 or NULL), when its source value reads
as a member code under the knowledge's own rules (ICD-10 prefixes and category ranges, CPT
numeric ranges, dots and case ignored). Text terms of a set match the source value too, as
they match a FHIR code's text. The same rules as `ValueSet.contains`, written as Ibis
expressions so any backend runs them.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from trialscreen.knowledge import CodeSystem, Include, ValueSet

_SQL_NORMALISABLE = {"dots", "case"}
"""Normalisations the source-value matcher writes in SQL (leading zeros are left to concepts)."""


def among(column: ir.IntegerValue, ids: Sequence[int]) -> ir.BooleanValue:
    """`column IN ids`, FALSE for an empty list (NULL-safe)."""
    if not ids:
        return ibis.literal(False)
    return column.isin(list(ids)).fill_null(False)


def contains_any(text: ir.StringValue, terms: Sequence[str]) -> ir.BooleanValue:
    """Case-insensitive substring match of any term (FALSE when NULL)."""
    if not terms:
        return ibis.literal(False)
    lowered = text.lower()
    hit = lowered.contains(terms[0])
    for term in terms[1:]:
        hit |= lowered.contains(term)
    return hit.fill_null(False)


def _normalised(system: CodeSystem, rows: ir.Table) -> ir.StringValue:
    """The row's source value normalised as the system says (precomputed columns, see cdm)."""
    rules = set(system.normalise_rules)
    if rules == {"dots", "case"}:
        return rows.code_plain
    if rules == {"case"}:
        return rows.code_upper
    if rules == {"dots"}:
        return rows.code_trim.replace(".", "")
    return rows.code_trim


def _include_matches(inc: Include, system: CodeSystem, rows: ir.Table) -> ir.BooleanValue:
    norm = _normalised(system, rows)
    hit: ir.BooleanValue = ibis.literal(False)
    for code in inc.codes:
        member = system.normalise(code)
        hit |= norm.startswith(member) if system.match == "prefix" else norm == member
    for low, high in inc.ranges:
        lo, hi = system.normalise(low), system.normalise(high)
        if lo.isdigit() and hi.isdigit():
            hit |= (norm.length() == len(lo)) & norm.re_search("^[0-9]+$") & (norm >= lo) & (norm <= hi)
        else:
            width = max(len(lo), len(hi))
            head = norm.substr(0, width)
            hit |= (norm.length() >= width) & (head >= lo) & (head <= hi)
    return hit


def source_value_in(vs: ValueSet, rows: ir.Table) -> ir.BooleanValue:
    """The source value read as a code of any of the set's systems (when SQL can normalise it)."""
    def any_of(includes: tuple[Include, ...]) -> ir.BooleanValue:
        hit: ir.BooleanValue = ibis.literal(False)
        for inc in includes:
            system = vs.systems[inc.system]
            if set(system.normalise_rules) <= _SQL_NORMALISABLE:
                hit |= _include_matches(inc, system, rows)
        return hit

    return (any_of(vs.include) & ~any_of(vs.exclude)).fill_null(False)


def source_match(rows: ir.Table, vs: ValueSet) -> ir.BooleanValue:
    """A row without a source concept whose source value reads as a member; or a text term match."""
    hit = ((rows.source_id == 0) & source_value_in(vs, rows)).fill_null(False)
    if vs.text:
        hit |= contains_any(rows.source_value, vs.text)
    return hit
