"""Values computed from others: creatinine clearance, measured or by Cockcroft–Gault."""

from __future__ import annotations

from collections.abc import Callable

from trialscreen.criteria.nodes import Derived
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.measurements import AnalyteReader
from trialscreen.evaluate.outcome import FALSE, OP_WORDS, TRUE, UNKNOWN, Outcome, comparison, fmt
from trialscreen.evaluate.registry import Check, Compiler, compiles
from trialscreen.knowledge import Knowledge
from trialscreen.report.model import Evidence


def cockcroft_gault(age: int, kg: float, creatinine_mg_dl: float, male: bool) -> float:
    """Creatinine clearance in mL/min: (140 − age) × kg / (72 × mg/dL), × 0.85 unless male."""
    clearance = (140 - age) * kg / (72 * creatinine_mg_dl)
    return clearance if male else clearance * 0.85


def _clearance(knowledge: Knowledge, unit: str) -> Callable[[Context], tuple[float | None, list[Evidence], str, list[str]]]:
    measured = AnalyteReader(knowledge.analyte("creatinine_clearance"), knowledge, unit)
    creatinine = AnalyteReader(knowledge.analyte("creatinine"), knowledge, "mg/dL")
    weight = AnalyteReader(knowledge.analyte("weight"), knowledge, "kg")

    def compute(ctx: Context) -> tuple[float | None, list[Evidence], str, list[str]]:
        for obs in measured.results(ctx, measured.lookback):
            reading = measured.read(obs)
            if reading.number is not None:
                ev = Evidence(obs.ref, "creatinine clearance (measured)", round(reading.number, 3), unit, obs.when.isoformat() if obs.when else None)
                return reading.number, [ev], f"measured creatinine clearance {fmt(reading.number)} {unit} on {obs.when}", []
        missing: list[str] = []
        evidence: list[Evidence] = []
        crea = creatinine.results(ctx, creatinine.lookback)
        scr = creatinine.read(crea[0]) if crea else None
        if scr is None or scr.number is None or scr.number <= 0:
            missing.append("a readable creatinine result within 28 days")
        else:
            evidence.append(Evidence(crea[0].ref, "creatinine", round(scr.number, 4), "mg/dL", crea[0].when.isoformat() if crea[0].when else None))
        wts = [(o, weight.read(o)) for o in weight.results(ctx, weight.lookback)]
        wt = wts[0][1] if wts else None
        if wt is None or wt.number is None:
            missing.append("body weight within 90 days")
        else:
            evidence.append(Evidence(wts[0][0].ref, "body weight", round(wt.number, 3), "kg", wts[0][0].when.isoformat() if wts[0][0].when else None))
        age = ctx.age
        if age is None:
            missing.append("birth date")
        if missing:
            return None, evidence, "no measured creatinine clearance, and Cockcroft–Gault lacks " + ", ".join(missing), missing
        assert scr is not None and scr.number is not None and wt is not None and wt.number is not None and age is not None
        male = ctx.facts.gender == "male"
        value = cockcroft_gault(age, wt.number, scr.number, male)
        evidence.append(Evidence(f"Patient/{ctx.facts.patient_id}", "age and sex for Cockcroft–Gault", age, "years", note=ctx.facts.gender or "sex not recorded"))
        how = f"Cockcroft–Gault clearance {fmt(value)} {unit} (age {age}, {fmt(wt.number)} kg, creatinine {fmt(scr.number)} mg/dL{'' if male else ', × 0.85'})"
        return value, evidence, how, []

    return compute


DERIVED = {"creatinine_clearance": _clearance}


@compiles("derived")
def _derived(node: Derived, polarity: str, c: Compiler) -> Check:
    compute = DERIVED[node.quantity](c.knowledge, node.unit)
    threshold = f"{OP_WORDS[node.op]} {fmt(node.value)} {node.unit}"
    op, limit = node.op, node.value

    def run(ctx: Context) -> Outcome:
        value, evidence, how, missing = compute(ctx)
        if value is None:
            return Outcome(UNKNOWN, how, evidence, missing=missing)
        for ev in evidence[:1]:
            object.__setattr__(ev, "threshold", threshold)
        ok = comparison(value, op, limit)
        return Outcome(TRUE if ok else FALSE, f"{how} {'meets' if ok else 'does not meet'} {threshold}", evidence)

    return run
