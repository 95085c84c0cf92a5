"""The attrition funnel of a screened population: who each criterion removes, in listing order.

A feasibility study reads the funnel two ways. Sequentially: persons remaining after each
criterion in the order of the listing, a failed criterion removing the person and an unknown
one keeping them (counted apart, since a chart review may still decide them). And per
criterion: how many it fails in total, and how many it alone stands in the way of (they fail
nothing else), which is the most relaxing that criterion could gain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from trialscreen.criteria import CriteriaSet

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
VERDICTS = ("eligible", "needs_review", "ineligible")


@dataclass(frozen=True)
class CriterionCounts:
    """Counts for one criterion or part over the whole population."""

    id: str
    kind: str
    text: str
    parent: str | None
    passed: int
    failed: int
    unknown: int
    fails_alone: int
    """Persons this criterion (or part) is the only failure of."""


@dataclass(frozen=True)
class FunnelStep:
    """Persons still eligible or to be reviewed after a criterion of the listing."""

    id: str
    remaining: int
    removed: int
    unknown_here: int
    """Of those remaining, how many have this criterion unknown."""
    remaining_with_unknown: int
    """Of those remaining, how many have any criterion so far unknown."""


@dataclass
class Funnel:
    """Everything `funnel.json` holds."""

    trial: str
    as_of: str
    engine: str
    cdm_version: str
    persons: int
    verdicts: dict[str, int]
    steps: list[FunnelStep]
    criteria: list[CriterionCounts]
    missing_codes: Any = None
    what_if: list[dict[str, Any]] = field(default_factory=list)

    def to_json_data(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "as_of": self.as_of,
            "engine": self.engine,
            "cdm_version": self.cdm_version,
            "persons": self.persons,
            "verdicts": self.verdicts,
            "attrition": [dataclasses.asdict(s) for s in self.steps],
            "criteria": [dataclasses.asdict(c) for c in self.criteria],
            "missing_codes": plain(self.missing_codes),
            "what_if": plain(self.what_if),
        }


def plain(value: Any) -> Any:
    """JSON-ready data from dataclasses, pydantic models, sets and tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "model_dump"):
        return plain(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _status_matrix(persons: pa.Table, ids: Sequence[str], status: str) -> np.ndarray:
    """Boolean matrix persons x ids: where the column holds `status`."""
    if not ids:
        return np.zeros((persons.num_rows, 0), dtype=bool)
    columns = [
        np.asarray(persons.column(i).to_numpy(zero_copy_only=False) == status, dtype=bool)
        for i in ids
    ]
    return np.column_stack(columns)


def build_funnel(
    persons: pa.Table,
    criteria: CriteriaSet,
    *,
    as_of: str,
    engine: str,
    cdm_version: str,
    missing_codes: Any = None,
) -> Funnel:
    """Count the funnel from the per-person statuses (one column per criterion and part id)."""
    top = [c for c in criteria.criteria]
    top_ids = [c.id for c in top]
    fails = _status_matrix(persons, top_ids, FAIL)
    unknowns = _status_matrix(persons, top_ids, UNKNOWN)
    fail_count = fails.sum(axis=1)

    steps: list[FunnelStep] = []
    removed_so_far = np.zeros(persons.num_rows, dtype=bool)
    unknown_so_far = np.zeros(persons.num_rows, dtype=bool)
    before = persons.num_rows
    for k, cid in enumerate(top_ids):
        removed_so_far |= fails[:, k]
        unknown_so_far |= unknowns[:, k]
        remaining = ~removed_so_far
        count = int(remaining.sum())
        steps.append(
            FunnelStep(
                id=cid,
                remaining=count,
                removed=before - count,
                unknown_here=int((remaining & unknowns[:, k]).sum()),
                remaining_with_unknown=int((remaining & unknown_so_far).sum()),
            )
        )
        before = count

    counts: list[CriterionCounts] = []
    for k, criterion in enumerate(top):
        col = fails[:, k]
        counts.append(
            _counts(
                persons, criterion.id, criterion.kind, criterion.text, None, col & (fail_count == 1)
            )
        )
        part_ids = [p.id for p in criterion.parts]
        if part_ids:
            part_fails = _status_matrix(persons, part_ids, FAIL)
            others = fail_count - col.astype(np.int64) == 0
            siblings = part_fails.sum(axis=1)
            for j, part in enumerate(criterion.parts):
                alone = part_fails[:, j] & (siblings == 1) & others
                counts.append(_counts(persons, part.id, part.kind, part.text, criterion.id, alone))

    verdict = persons.column("verdict").to_numpy(zero_copy_only=False)
    verdicts = {v: int((verdict == v).sum()) for v in VERDICTS}
    return Funnel(
        trial=criteria.trial,
        as_of=as_of,
        engine=engine,
        cdm_version=cdm_version,
        persons=persons.num_rows,
        verdicts=verdicts,
        steps=steps,
        criteria=counts,
        missing_codes=missing_codes,
    )


def _counts(
    persons: pa.Table, cid: str, kind: str, text: str, parent: str | None, alone: np.ndarray
) -> CriterionCounts:
    values = persons.column(cid).to_numpy(zero_copy_only=False)
    return CriterionCounts(
        id=cid,
        kind=kind,
        text=text,
        parent=parent,
        passed=int((values == PASS).sum()),
        failed=int((values == FAIL).sum()),
        unknown=int((values == UNKNOWN).sum()),
        fails_alone=int(alone.sum()),
    )
