"""Values computed from others: creatinine clearance, measured or by Cockcroft–Gault."""

from __future__ import annotations

from collections.abc import Callable

from trialscreen.criteria.nodes import Derived
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.measurements import AnalyteReader, Reading
from trialscreen.evaluate.outcome import (
    DECIDED_FALSE,
    DECIDED_TRUE,
    DECIDED_UNKNOWN,
    FALSE,
    OP_WORDS,
    TRUE,
    UNKNOWN,
    Outcome,
    bounded_comparison,
    fmt,
)
from trialscreen.evaluate.registry import Check, Compiler, Decide, Decision, compiles, decides
from trialscreen.fhir.facts import ObservationFact
from trialscreen.knowledge import CockcroftGault, Knowledge, knowledge
from trialscreen.report.model import Evidence


def cockcroft_gault(age: int, kg: float, creatinine_mg_dl: float, male: bool, k: CockcroftGault | None = None) -> float:
    """Creatinine clearance in mL/min, with the constants of the knowledge (formulas.yaml)."""
    k = k or knowledge().cockcroft_gault
    clearance = (k.age_offset - age) * kg / (k.divisor * creatinine_mg_dl)
    return clearance if male else clearance * k.factor_unless_male


Pick = Callable[[list[float]], float]
"""From values that tie, the least favourable for the criterion (min or max)."""


def _latest_tied(reader: AnalyteReader, ctx: Context) -> list[tuple[ObservationFact, float]]:
    """Exact values of the latest result and of any result at exactly the same time.

    An unreadable (or bound-only) latest result hides older ones: the list is then empty.
    """
    read = [(obs, _exact(reader.read(obs))) for obs in reader.newest(ctx, reader.lookback)]
    return [(obs, n) for obs, n in read if n is not None]


def _exact(reading: Reading) -> float | None:
    """The number of a reading, or None when it is unreadable or only a bound ("<0.5")."""
    return None if reading.comparator else reading.number


def _measured_bound(reader: AnalyteReader, ctx: Context, pick: Pick) -> tuple[ObservationFact, Reading] | None:
    """The latest readable measured clearance (least favourable on a tie), bounds ("> 90") included."""
    read = [(obs, reading) for obs in reader.results(ctx, reader.lookback) if (reading := reader.read(obs)).number is not None]
    if not read:
        return None
    newest = read[0][0].instant
    tied = [(obs, r) for obs, r in read if obs.instant == newest]
    chosen = pick([r.number for _, r in tied if r.number is not None])
    return next((obs, r) for obs, r in tied if r.number == chosen)


Clearance = tuple[float | None, str | None, list[Evidence], str, list[str]]
"""(value, comparator when only a bound, evidence, how it was found, what is missing)."""


def _clearance(knowledge: Knowledge, unit: str) -> Callable[[Context, Pick], Clearance]:
    formula = knowledge.cockcroft_gault
    measured = AnalyteReader(knowledge.analyte("creatinine_clearance"), knowledge, unit)
    creatinine = AnalyteReader(knowledge.analyte("creatinine"), knowledge, "mg/dL")
    weight = AnalyteReader(knowledge.analyte("weight"), knowledge, "kg")

    def compute(ctx: Context, pick: Pick) -> Clearance:
        found = _measured_bound(measured, ctx, pick)
        if found is not None:
            obs, reading = found
            assert reading.number is not None
            chosen, bound = reading.number, reading.comparator
            ev = Evidence(obs.ref, "creatinine clearance (measured)", round(chosen, 3), unit, obs.when.isoformat() if obs.when else None, note=f"only a bound: {bound}{fmt(chosen)}" if bound else None)
            return chosen, bound, [ev], f"measured creatinine clearance {bound or ''}{fmt(chosen)} {unit} on {obs.when}", []
        missing: list[str] = []
        crea = [(o, n) for o, n in _latest_tied(creatinine, ctx) if n > 0]
        if not crea:
            missing.append("a readable creatinine result within 28 days")
        wts = _latest_tied(weight, ctx)
        if not wts:
            missing.append("body weight within 90 days")
        age = ctx.age
        if age is None:
            missing.append("birth date" if ctx.age_bounds is None else "an exact birth date (it is partial)")
        if missing:
            return None, None, [], "no measured creatinine clearance, and Cockcroft–Gault lacks " + ", ".join(missing), missing
        assert age is not None
        male = ctx.facts.gender == "male"
        # On a tie of creatinine or weight results, the least favourable combination counts.
        options = [(cockcroft_gault(age, kg, scr, male, formula), (c, scr), (w, kg)) for c, scr in crea for w, kg in wts]
        value = pick([v for v, _, _ in options])
        (c_obs, scr), (w_obs, kg) = next((c, w) for v, c, w in options if v == value)
        evidence = [
            Evidence(c_obs.ref, "creatinine", round(scr, 4), "mg/dL", c_obs.when.isoformat() if c_obs.when else None),
            Evidence(w_obs.ref, "body weight", round(kg, 3), "kg", w_obs.when.isoformat() if w_obs.when else None),
            Evidence(f"Patient/{ctx.facts.patient_id}", "age and sex for Cockcroft–Gault", age, "years", note=ctx.facts.gender or "sex not recorded"),
        ]
        how = f"Cockcroft–Gault clearance {fmt(value)} {unit} (age {age}, {fmt(kg)} kg, creatinine {fmt(scr)} mg/dL{'' if male else ', × 0.85'})"
        return value, None, evidence, how, []

    return compute


def _clearance_value(knowledge: Knowledge, unit: str) -> Callable[[Context, Pick], tuple[float, str | None] | None]:
    """`_clearance`'s value and bound alone, without evidence or words (kept in step with it)."""
    formula = knowledge.cockcroft_gault
    measured = AnalyteReader(knowledge.analyte("creatinine_clearance"), knowledge, unit)
    creatinine = AnalyteReader(knowledge.analyte("creatinine"), knowledge, "mg/dL")
    weight = AnalyteReader(knowledge.analyte("weight"), knowledge, "kg")

    def compute(ctx: Context, pick: Pick) -> tuple[float, str | None] | None:
        found = _measured_bound(measured, ctx, pick)
        if found is not None:
            reading = found[1]
            assert reading.number is not None
            return reading.number, reading.comparator
        crea = [(o, n) for o, n in _latest_tied(creatinine, ctx) if n > 0]
        if not crea:
            return None
        wts = _latest_tied(weight, ctx)
        age = ctx.age
        if not wts or age is None:
            return None
        male = ctx.facts.gender == "male"
        return pick([cockcroft_gault(age, kg, scr, male, formula) for _, scr in crea for _, kg in wts]), None

    return compute


DERIVED = {"creatinine_clearance": _clearance}
DERIVED_VALUES = {"creatinine_clearance": _clearance_value}


@compiles("derived")
def _derived(node: Derived, polarity: str, c: Compiler) -> Check:
    compute = DERIVED[node.quantity](c.knowledge, node.unit)
    threshold = f"{OP_WORDS[node.op]} {fmt(node.value)} {node.unit}"
    op, limit = node.op, node.value
    # Least favourable of tied values: for an inclusion "≥ 60" the lowest, and so on.
    higher_is_true = op in (">=", ">")
    pick: Pick = min if higher_is_true == (polarity == "inclusion") else max

    def run(ctx: Context) -> Outcome:
        value, bound, evidence, how, missing = compute(ctx, pick)
        if value is None:
            return Outcome(UNKNOWN, how, evidence, missing=missing)
        for ev in evidence[:1]:
            object.__setattr__(ev, "threshold", threshold)
        decided = bounded_comparison(value, bound, op, limit)
        if decided is None:
            return Outcome(UNKNOWN, f"{how} is only a bound, which does not decide {threshold}", evidence, missing=["an exact creatinine clearance"])
        ok = decided
        return Outcome(TRUE if ok else FALSE, f"{how} {'meets' if ok else 'does not meet'} {threshold}", evidence)

    return run


@decides("derived")
def _decide_derived(node: Derived, polarity: str, c: Compiler) -> Decide:
    """The check's decision, without its words (kept in step with `_derived`)."""
    compute = DERIVED_VALUES[node.quantity](c.knowledge, node.unit)
    op, limit = node.op, node.value
    higher_is_true = op in (">=", ">")
    pick: Pick = min if higher_is_true == (polarity == "inclusion") else max

    def run(ctx: Context) -> Decision:
        found = compute(ctx, pick)
        if found is None:
            return DECIDED_UNKNOWN
        decided = bounded_comparison(found[0], found[1], op, limit)
        if decided is None:
            return DECIDED_UNKNOWN
        return DECIDED_TRUE if decided else DECIDED_FALSE

    return run
