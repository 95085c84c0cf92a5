"""From node truth to criterion status, patient verdict and eligible_from (the spec's rules)."""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from trialscreen.criteria import CriteriaSet, Criterion
from trialscreen.criteria.nodes import AllOf, AnyOf, Condition, Immunization, Medication, Procedure, Ref
from trialscreen.omop.compiler.cdm import FOREVER

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
ELIGIBLE_FROM = "eligible_from"


def eligible_from_column(criterion_id: str) -> str:
    return f"{ELIGIBLE_FROM}:{criterion_id}"


def status_of(truth: ir.BooleanValue, kind: str) -> ir.StringValue:
    """Inclusion: true passes; exclusion: true (the excluding condition holds) fails."""
    yes, no = (PASS, FAIL) if kind == "inclusion" else (FAIL, PASS)
    return ibis.cases((truth, ibis.literal(yes)), (~truth, ibis.literal(no)), else_=ibis.literal(UNKNOWN))


def applies(status: ir.StringValue, applicable: ir.BooleanValue | None) -> ir.StringValue:
    """Not applicable (applies_when false) passes; unknown applicability is decided by the rule."""
    if applicable is None:
        return status
    return ibis.cases((~applicable.fill_null(True), ibis.literal(PASS)), else_=status)


def compound(parts: Sequence[ir.StringValue]) -> ir.StringValue:
    """Fails if any part fails, else unknown if any is unknown, else passes."""
    any_fail = parts[0] == FAIL
    any_unknown = parts[0] == UNKNOWN
    for part in parts[1:]:
        any_fail |= part == FAIL
        any_unknown |= part == UNKNOWN
    return ibis.cases((any_fail, ibis.literal(FAIL)), (any_unknown, ibis.literal(UNKNOWN)), else_=ibis.literal(PASS))


def verdict(statuses: Sequence[ir.StringValue]) -> ir.StringValue:
    any_fail = statuses[0] == FAIL
    any_unknown = statuses[0] == UNKNOWN
    for s in statuses[1:]:
        any_fail |= s == FAIL
        any_unknown |= s == UNKNOWN
    return ibis.cases(
        (any_fail, ibis.literal("ineligible")), (any_unknown, ibis.literal("needs_review")), else_=ibis.literal("eligible")
    )


def criterion_eligible_from(status: ir.StringValue, expiry: ir.DateValue) -> ir.DateValue:
    """D + W of the latest event when the criterion fails because of windowed events only."""
    return ibis.cases(
        ((status == FAIL) & expiry.notnull() & (expiry < FOREVER), expiry), else_=ibis.null("date")
    )


def patient_eligible_from(
    statuses: Sequence[ir.StringValue], eligible: Sequence[ir.DateValue | None]
) -> ir.DateValue:
    """The latest criterion eligible_from, when every failed criterion has one."""
    any_fail: ir.BooleanValue = ibis.literal(False)
    all_have: ir.BooleanValue = ibis.literal(True)
    dates: list[ir.DateValue] = []
    for status, day in zip(statuses, eligible, strict=True):
        any_fail |= status == FAIL
        all_have &= (status != FAIL) | (day.notnull() if day is not None else ibis.literal(False))
        if day is not None:
            dates.append(day)
    if not dates:
        return ibis.null("date")
    latest = ibis.greatest(*dates) if len(dates) > 1 else dates[0]
    return ibis.cases((any_fail & all_have, latest), else_=ibis.null("date"))


def windowed(node: object, criteria: CriteriaSet, seen: frozenset[str] = frozenset()) -> bool:
    """Does the tree hold an event-window leaf (so the criterion can have an eligible_from)?

    A negated or uncertain window gives no date on which the criterion would pass.
    """
    if isinstance(node, Condition):
        return node.window is not None and node.timing in ("onset_within", "active_or_within")
    if isinstance(node, Procedure | Immunization | Medication):
        return node.window is not None
    if isinstance(node, AllOf | AnyOf):
        return any(windowed(item, criteria, seen) for item in node.items)
    if isinstance(node, Ref):
        if node.name in seen or node.name not in criteria.definitions:
            return False
        return windowed(criteria.definitions[node.name], criteria, seen | {node.name})
    return False


def has_eligible_from(criterion: Criterion, criteria: CriteriaSet) -> bool:
    """Only exclusions with a rule (not compound) and an event window have one."""
    return criterion.kind == "exclusion" and criterion.rule is not None and windowed(criterion.rule, criteria)
