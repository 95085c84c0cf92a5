"""What-if thresholds: `inc-6.lvef>=40` relaxes (or tightens) one criterion's number.

The criteria tree is frozen, so a what-if builds a changed copy along the path to the one
node it touches (`model_copy(update=...)`) and leaves the original as it was. The node is
the criterion's only numeric threshold (a result against a value or a multiple of the ULN,
a derived value, an age bound); when a criterion has several (`inc-6.renal`: creatinine or
clearance), the comparator's direction picks the one on the same side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from trialscreen.criteria import (
    Age,
    AllOf,
    AnyOf,
    CriteriaSet,
    Criterion,
    Derived,
    Measurement,
    Not,
    Uncertain,
)
from trialscreen.omop.sources import UsageError

Comparator = Literal["<", "<=", ">", ">="]
_EXPR = re.compile(
    r"^\s*(?P<id>[A-Za-z][\w-]*(?:\.[\w-]+)*)\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+]?\d+(?:\.\d+)?)\s*$"
)


@dataclass(frozen=True)
class WhatIf:
    """One changed threshold, as the user wrote it."""

    text: str
    criterion: str
    op: Comparator
    value: float


def parse_what_if(text: str) -> WhatIf:
    """`inc-6.lvef>=40` -> WhatIf; anything else is a usage error naming the expression."""
    match = _EXPR.match(text)
    if not match:
        raise UsageError(
            f"--what-if {text!r}: expected CRITERION-ID COMPARATOR NUMBER, e.g. 'inc-6.lvef>=40'"
        )
    op: Comparator = match.group("op")  # type: ignore[assignment]
    return WhatIf(text.strip(), match.group("id"), op, float(match.group("value")))


def _direction(op: str) -> str:
    return "up" if op.startswith(">") else "down"


NodePath = tuple[Any, ...]
"""Steps from a rule down to a node: field names and tuple indices."""


def _thresholds(node: BaseModel, path: NodePath = ()) -> list[tuple[NodePath, BaseModel, str]]:
    """Every numeric threshold under `node`: (path, node, direction of its comparator)."""
    found: list[tuple[NodePath, BaseModel, str]] = []
    numeric = isinstance(node, Measurement) and (
        node.value is not None or node.uln_multiple is not None
    )
    if (isinstance(node, Measurement) and node.op and numeric) or isinstance(node, Derived):
        found.append((path, node, _direction(node.op or "")))
    elif isinstance(node, Age):
        if node.min is not None:
            found.append((path, node, "up"))
        if node.max is not None:
            found.append((path, node, "down"))
    elif isinstance(node, AllOf | AnyOf):
        for i, item in enumerate(node.items):
            found.extend(_thresholds(item, (*path, "items", i)))
    elif isinstance(node, Not | Uncertain):
        found.extend(_thresholds(node.item, (*path, "item")))
    return found


def _changed(node: BaseModel, what: WhatIf) -> BaseModel:
    if isinstance(node, Measurement):
        if node.uln_multiple is not None:
            return node.model_copy(update={"op": what.op, "uln_multiple": what.value})
        return node.model_copy(update={"op": what.op, "value": what.value})
    if isinstance(node, Derived):
        return node.model_copy(update={"op": what.op, "value": what.value})
    if isinstance(node, Age):
        bound = int(what.value)
        if bound != what.value:
            raise UsageError(f"--what-if {what.text!r}: an age bound is a whole number of years")
        # age >= N sets the minimum, age <= N the maximum; strict comparators shift by one
        if what.op in (">=", ">"):
            return node.model_copy(update={"min": bound + (1 if what.op == ">" else 0)})
        return node.model_copy(update={"max": bound - (1 if what.op == "<" else 0)})
    raise AssertionError(f"not a threshold node: {type(node).__name__}")


def _replace(node: BaseModel, path: NodePath, new: BaseModel) -> BaseModel:
    """A copy of `node` with the node at `path` replaced (copies only along the path)."""
    if not path:
        return new
    name, rest = path[0], path[1:]
    child = getattr(node, name)
    if isinstance(child, tuple):
        index, rest = rest[0], rest[1:]
        items = list(child)
        items[index] = _replace(items[index], rest, new)
        return node.model_copy(update={name: tuple(items)})
    return node.model_copy(update={name: _replace(child, rest, new)})


def _criterion_path(criteria: CriteriaSet, cid: str) -> tuple[NodePath, Criterion]:
    for i, top in enumerate(criteria.criteria):
        if top.id == cid:
            return ("criteria", i), top
        for j, part in enumerate(top.parts):
            if part.id == cid:
                return ("criteria", i, "parts", j), part
    known = ", ".join(c.id for c in criteria.walk())
    raise UsageError(f"--what-if: no criterion {cid!r} in {criteria.trial} (known: {known})")


def apply_what_if(criteria: CriteriaSet, what: WhatIf) -> CriteriaSet:
    """A copy of `criteria` with the one threshold of `what.criterion` changed."""
    path, criterion = _criterion_path(criteria, what.criterion)
    if criterion.rule is None:
        raise UsageError(
            f"--what-if {what.text!r}: {criterion.id} is compound; name one of its parts "
            f"({', '.join(p.id for p in criterion.parts)})"
        )
    candidates = _thresholds(criterion.rule)
    if not candidates:
        raise UsageError(f"--what-if {what.text!r}: {criterion.id} has no numeric threshold")
    if len(candidates) > 1:
        candidates = [c for c in candidates if c[2] == _direction(what.op)]
        if len(candidates) != 1:
            raise UsageError(
                f"--what-if {what.text!r}: {criterion.id} has several thresholds and the "
                "comparator does not pick one"
            )
    node_path, node, _ = candidates[0]
    new_rule = _replace(criterion.rule, node_path, _changed(node, what))
    changed = _replace(criteria, (*path, "rule"), new_rule)
    assert isinstance(changed, CriteriaSet)
    return changed
