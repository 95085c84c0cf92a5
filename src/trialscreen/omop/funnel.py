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
import pyarrow.compute as pc

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


STATUSES = (PASS, FAIL, UNKNOWN)


def codes(column: pa.ChunkedArray | pa.Array, values: Sequence[str]) -> np.ndarray:
    """The column as small ints, the position of each value in `values` (-1: anything else).

    Works on the column's dictionary, so a million rows cost one pass over integers.
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    words = array.dictionary.to_pylist()
    lookup = np.array([values.index(w) if w in values else -1 for w in words] + [-1], dtype=np.int8)
    indices = pc.fill_null(array.indices, len(words)).to_numpy(zero_copy_only=False)
    return lookup[indices]


def _matrix(status: dict[str, np.ndarray], ids: Sequence[str], which: str, rows: int) -> np.ndarray:
    """Boolean matrix persons x ids: where the criterion has status `which`."""
    if not ids:
        return np.zeros((rows, 0), dtype=bool)
    k = STATUSES.index(which)
    return np.column_stack([status[i] == k for i in ids])


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
    top = list(criteria.criteria)
    top_ids = [c.id for c in top]
    rows = persons.num_rows
    status = {c.id: codes(persons.column(c.id), STATUSES) for c in criteria.walk()}
    fails = _matrix(status, top_ids, FAIL, rows)
    unknowns = _matrix(status, top_ids, UNKNOWN, rows)
    fail_count = fails.sum(axis=1)

    steps: list[FunnelStep] = []
    removed_so_far = np.zeros(rows, dtype=bool)
    unknown_so_far = np.zeros(rows, dtype=bool)
    before = rows
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
        alone_top = col & (fail_count == 1)
        counts.append(_counts(status[criterion.id], criterion.id, criterion.kind, criterion.text, None, alone_top))
        part_ids = [p.id for p in criterion.parts]
        if part_ids:
            part_fails = _matrix(status, part_ids, FAIL, rows)
            others = fail_count - col.astype(np.int64) == 0
            siblings = part_fails.sum(axis=1)
            for j, part in enumerate(criterion.parts):
                alone = part_fails[:, j] & (siblings == 1) & others
                counts.append(_counts(status[part.id], part.id, part.kind, part.text, criterion.id, alone))

    verdict = codes(persons.column("verdict"), VERDICTS)
    return Funnel(
        trial=criteria.trial,
        as_of=as_of,
        engine=engine,
        cdm_version=cdm_version,
        persons=rows,
        verdicts={v: int((verdict == k).sum()) for k, v in enumerate(VERDICTS)},
        steps=steps,
        criteria=counts,
        missing_codes=missing_codes,
    )


def _counts(
    status: np.ndarray, cid: str, kind: str, text: str, parent: str | None, alone: np.ndarray
) -> CriterionCounts:
    return CriterionCounts(
        id=cid,
        kind=kind,
        text=text,
        parent=parent,
        passed=int((status == 0).sum()),
        failed=int((status == 1).sum()),
        unknown=int((status == 2).sum()),
        fails_alone=int(alone.sum()),
    )
