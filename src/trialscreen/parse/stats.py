"""How much of a parsed criteria set is computable: the coverage the benchmarks report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trialscreen.criteria.criterion import CriteriaSet, Criterion
from trialscreen.criteria.nodes import Attestation, ManualReview, Node
from trialscreen.parse.compare import leaves

Status = Literal["computable", "partial", "manual"]


@dataclass(frozen=True, slots=True)
class Summary:
    criteria: int
    """Leaf criteria (a compound criterion counts by its parts)."""
    computable: int
    partial: int
    manual: int
    attested: int = 0
    """Of the computable ones, those decided only by attestations (a person's answer)."""


def status(rule: Node | None, definitions: dict[str, Node]) -> Status:
    """`computable` without manual review; `partial` with both; `manual` with nothing else."""
    found = [leaf for _, leaf in leaves(rule, definitions)]
    manual = sum(isinstance(leaf, ManualReview) for leaf in found)
    if manual == 0:
        return "computable"
    return "manual" if manual == len(found) else "partial"


def attested_only(rule: Node | None, definitions: dict[str, Node]) -> bool:
    found = [leaf for _, leaf in leaves(rule, definitions)]
    return bool(found) and all(isinstance(leaf, Attestation) for leaf in found)


def leaf_criteria(criteria: CriteriaSet) -> list[Criterion]:
    return [c for c in criteria.walk() if not c.parts]


def summary(criteria: CriteriaSet) -> Summary:
    counts = {"computable": 0, "partial": 0, "manual": 0}
    definitions = dict(criteria.definitions)
    leaves_ = leaf_criteria(criteria)
    attested = 0
    for c in leaves_:
        st = status(c.rule, definitions)
        counts[st] += 1
        attested += st == "computable" and attested_only(c.rule, definitions)
    return Summary(len(leaves_), counts["computable"], counts["partial"], counts["manual"], attested)
