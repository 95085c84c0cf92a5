"""Kleene logic over outcomes, and when the result changes with time."""

from __future__ import annotations

from datetime import date

from trialscreen.criteria.nodes import AllOf, AnyOf, Not, Ref, Uncertain
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.outcome import (
    DECIDED,
    DECIDED_UNKNOWN,
    FALSE,
    TRUE,
    UNKNOWN,
    Outcome,
    flip,
)
from trialscreen.evaluate.registry import Check, Compiler, Decide, Decision, compiles, decides


def _join(outcomes: list[Outcome]) -> str:
    return "; ".join([o.reason for o in outcomes if o.reason])


def _merge(out: Outcome, parts: list[Outcome]) -> Outcome:
    evidence, missing, warnings = out.evidence, out.missing, out.warnings
    for p in parts:
        if p.evidence:
            evidence.extend(p.evidence)
        for m in p.missing:
            if m not in missing:
                missing.append(m)
        if p.warnings:
            warnings.extend(p.warnings)
    return out


def _lapse(dates: list[date | None], latest: bool) -> date | None:
    """When a combination changes: all must lapse (latest) or the first to lapse (earliest)."""
    if not dates or any(d is None for d in dates):
        return None if latest else min((d for d in dates if d is not None), default=None)
    known = [d for d in dates if d is not None]
    return max(known) if latest else min(known)


def any_of(outcomes: list[Outcome]) -> Outcome:
    trues = [o for o in outcomes if o.truth == TRUE]
    if trues:
        return _merge(Outcome(TRUE, _join(trues), changes_on=_lapse([o.changes_on for o in trues], True)), trues)
    unknowns = [o for o in outcomes if o.truth == UNKNOWN]
    if unknowns:
        return _merge(Outcome(UNKNOWN, _join(unknowns)), outcomes)
    lapses = [o.changes_on for o in outcomes if o.changes_on is not None]
    return _merge(Outcome(FALSE, _join(outcomes), changes_on=min(lapses) if lapses else None), outcomes)


def all_of(outcomes: list[Outcome]) -> Outcome:
    falses = [o for o in outcomes if o.truth == FALSE]
    if falses:
        return _merge(Outcome(FALSE, _join(falses), changes_on=_lapse([o.changes_on for o in falses], True)), falses)
    unknowns = [o for o in outcomes if o.truth == UNKNOWN]
    if unknowns:
        return _merge(Outcome(UNKNOWN, _join(unknowns)), outcomes)
    lapses = [o.changes_on for o in outcomes if o.changes_on is not None]
    return _merge(Outcome(TRUE, _join(outcomes), changes_on=min(lapses) if lapses else None), outcomes)


@compiles("any")
def _any(node: AnyOf, polarity: str, c: Compiler) -> Check:
    checks = [c.compile(item, polarity) for item in node.items]
    return lambda ctx: any_of([check(ctx) for check in checks])


@compiles("all")
def _all(node: AllOf, polarity: str, c: Compiler) -> Check:
    checks = [c.compile(item, polarity) for item in node.items]
    label = node.label

    def run(ctx: Context) -> Outcome:
        out = all_of([check(ctx) for check in checks])
        if label and out.truth == TRUE:
            out.reason = f"{label}: {out.reason}"
        return out

    return run


@compiles("not")
def _not(node: Not, polarity: str, c: Compiler) -> Check:
    check = c.compile(node.item, flip(polarity))

    def run(ctx: Context) -> Outcome:
        out = check(ctx)
        out.truth = {TRUE: FALSE, FALSE: TRUE}.get(out.truth, UNKNOWN)
        return out

    return run


@compiles("uncertain")
def _uncertain(node: Uncertain, polarity: str, c: Compiler) -> Check:
    check = c.compile(node.item, polarity)
    why = node.reason

    def run(ctx: Context) -> Outcome:
        out = check(ctx)
        if out.truth == TRUE:
            out.truth = UNKNOWN
            out.reason = f"{out.reason}: {why}"
            out.missing.append(why)
            out.changes_on = None
        return out

    return run


@compiles("ref")
def _ref(node: Ref, polarity: str, c: Compiler) -> Check:
    key = (node.name, polarity)
    if key not in c._refs:
        if node.name not in c.definitions:
            raise KeyError(f"criteria refer to an undefined definition {node.name!r}")
        c._refs[key] = c.compile(c.definitions[node.name], polarity)
    return c._refs[key]


# Deciders: the same logic on (truth, changes_on) alone. A child that decides the whole for
# good (true for `any`, false for `all`, with no day it changes) ends the evaluation early.


def _combine(deciders: list[Decide], decisive: str) -> Decide:
    """`any_of` (decisive true) or `all_of` (decisive false) on decisions."""
    other = FALSE if decisive == TRUE else TRUE

    def run(ctx: Context) -> Decision:
        lapse_decisive: date | None = None
        lapse_other: date | None = None
        seen_decisive = unknown = False
        for decide in deciders:
            truth, when = decide(ctx)
            if truth == decisive:
                if when is None:
                    return DECIDED[decisive]
                seen_decisive = True
                if lapse_decisive is None or when > lapse_decisive:
                    lapse_decisive = when  # all must lapse: the latest
            elif truth == UNKNOWN:
                unknown = True
            elif when is not None and (lapse_other is None or when < lapse_other):
                lapse_other = when  # the first to lapse
        if seen_decisive:
            return decisive, lapse_decisive
        if unknown:
            return DECIDED_UNKNOWN
        return DECIDED[other] if lapse_other is None else (other, lapse_other)

    return run


@decides("any")
def _decide_any(node: AnyOf, polarity: str, c: Compiler) -> Decide:
    return _combine([c.decide(item, polarity) for item in node.items], TRUE)


@decides("all")
def _decide_all(node: AllOf, polarity: str, c: Compiler) -> Decide:
    return _combine([c.decide(item, polarity) for item in node.items], FALSE)


@decides("not")
def _decide_not(node: Not, polarity: str, c: Compiler) -> Decide:
    decide = c.decide(node.item, flip(polarity))

    def run(ctx: Context) -> Decision:
        truth, when = decide(ctx)
        if truth == UNKNOWN:
            return DECIDED_UNKNOWN if when is None else (UNKNOWN, when)
        flipped = FALSE if truth == TRUE else TRUE
        return DECIDED[flipped] if when is None else (flipped, when)

    return run


@decides("uncertain")
def _decide_uncertain(node: Uncertain, polarity: str, c: Compiler) -> Decide:
    decide = c.decide(node.item, polarity)

    def run(ctx: Context) -> Decision:
        decided = decide(ctx)
        return DECIDED_UNKNOWN if decided[0] == TRUE else decided

    return run


@decides("ref")
def _decide_ref(node: Ref, polarity: str, c: Compiler) -> Decide:
    key = (node.name, polarity)
    if key not in c._decided_refs:
        if node.name not in c.definitions:
            raise KeyError(f"criteria refer to an undefined definition {node.name!r}")
        c._decided_refs[key] = c.decide(c.definitions[node.name], polarity)
    return c._decided_refs[key]
