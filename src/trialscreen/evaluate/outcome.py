"""What a node says about a patient: three-valued truth, why, on what evidence.

`changes_on` is the first day the truth would change because an event leaves its window;
None when time does not change it. A criterion that fails with a `changes_on` is eligible
from that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from trialscreen.report.model import Evidence

TRUE = "true"
FALSE = "false"
UNKNOWN = "unknown"


@dataclass(slots=True)
class Outcome:
    truth: str
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    changes_on: date | None = None
    warnings: list[str] = field(default_factory=list)


DECIDED_TRUE: tuple[str, date | None] = (TRUE, None)
DECIDED_FALSE: tuple[str, date | None] = (FALSE, None)
DECIDED_UNKNOWN: tuple[str, date | None] = (UNKNOWN, None)
"""Decisions that time does not change, shared rather than built per node."""
DECIDED = {TRUE: DECIDED_TRUE, FALSE: DECIDED_FALSE, UNKNOWN: DECIDED_UNKNOWN}


def worst_first(polarity: str) -> dict[str, int]:
    """Rank of truths from least to most favourable for a criterion of this polarity.

    For an inclusion (polarity "inclusion") false is worst; for an exclusion, true is.
    """
    if polarity == "inclusion":
        return {FALSE: 0, UNKNOWN: 1, TRUE: 2}
    return {TRUE: 0, UNKNOWN: 1, FALSE: 2}


def flip(polarity: str) -> str:
    return "exclusion" if polarity == "inclusion" else "inclusion"


def comparison(value: float, op: str, threshold: float) -> bool:
    """Compare after rounding both sides, so a value converted between units never flips."""
    if abs(value - threshold) > 1e-6 * (abs(value) + abs(threshold)):
        # Far apart: rounding to 9 significant digits cannot change the order (the fast way).
        a, b = value, threshold
    else:
        a, b = float(f"{value:.9g}"), float(f"{threshold:.9g}")
    if op == "<=":
        return a <= b
    if op == "<":
        return a < b
    if op == ">=":
        return a >= b
    return a > b


def _r(value: float) -> float:
    return float(f"{value:.9g}")


def bounded_comparison(bound: float, comparator: str | None, op: str, threshold: float) -> bool | None:
    """`x op threshold` for a result known only as `x comparator bound` ("<500"): True or False
    when every value the bound allows agrees, else None. No comparator: an exact comparison."""
    if comparator is None:
        return comparison(bound, op, threshold)
    v, t = _r(bound), _r(threshold)
    below = comparator in ("<", "<=")  # the value lies below the bound, else above it
    open_end = comparator in ("<", ">")  # the bound itself is excluded
    if op in (">=", ">"):
        strict = op == ">"
        if below:  # never true for sure; false when even the bound fails
            return False if (v < t or (v == t and (open_end or strict))) else None
        return True if (v > t or (v == t and (not strict or open_end))) else None
    strict = op == "<"
    if not below:  # never true for sure; false when even the bound fails
        return False if (v > t or (v == t and (open_end or strict))) else None
    return True if (v < t or (v == t and (not strict or open_end))) else None


OP_WORDS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}


def fmt(value: float) -> str:
    """A number as a person writes it (no float noise)."""
    text = f"{value:.4g}" if abs(value) < 1e6 else f"{value:.6g}"
    return text
