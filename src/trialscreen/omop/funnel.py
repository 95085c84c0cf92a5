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

    Works on the column's dictionary, so a million rows cost one pass over integers (none
    at all when the dictionary is `values` itself, as in the runner's persons table).
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    words = array.dictionary.to_pylist()
    if words == list(values)[: len(words)] and pa.types.is_signed_integer(array.indices.type):
        indices: np.ndarray = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False)
        return indices.astype(np.int8, copy=False)
    lookup = np.array([values.index(w) if w in values else -1 for w in words] + [-1], dtype=np.int8)
    positions = pc.fill_null(array.indices, len(words)).to_numpy(zero_copy_only=False)
    result: np.ndarray = lookup[positions]
    return result


def _where(status: dict[str, np.ndarray], ids: Sequence[str], which: str) -> list[np.ndarray]:
    """Per id, a boolean array over persons: where the criterion has status `which`.

    One contiguous array per criterion (not a persons x criteria matrix, whose columns
    would be strided and several times slower to combine).
    """
    k = STATUSES.index(which)
    return [status[i] == k for i in ids]


def _how_many(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))


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
    fails = _where(status, top_ids, FAIL)
    unknowns = _where(status, top_ids, UNKNOWN)
    fail_count = np.zeros(rows, dtype=np.int16)
    for failed in fails:
        fail_count += failed
    fails_once = fail_count == 1

    steps: list[FunnelStep] = []
    removed_so_far = np.zeros(rows, dtype=bool)
    unknown_so_far = np.zeros(rows, dtype=bool)
    before = rows
    for cid, failed, unknown in zip(top_ids, fails, unknowns, strict=True):
        removed_so_far |= failed
        unknown_so_far |= unknown
        remaining = ~removed_so_far
        count = _how_many(remaining)
        steps.append(
            FunnelStep(
                id=cid,
                remaining=count,
                removed=before - count,
                unknown_here=_how_many(remaining & unknown),
                remaining_with_unknown=_how_many(remaining & unknown_so_far),
            )
        )
        before = count

    counts: list[CriterionCounts] = []
    for criterion, failed in zip(top, fails, strict=True):
        alone_top = failed & fails_once
        counts.append(_counts(status[criterion.id], criterion.id, criterion.kind, criterion.text, None, alone_top))
        part_ids = [p.id for p in criterion.parts]
        if part_ids:
            part_fails = _where(status, part_ids, FAIL)
            others = fail_count == failed  # nothing but this criterion (if even that) fails
            siblings = np.zeros(rows, dtype=np.int16)
            for part_failed in part_fails:
                siblings += part_failed
            alone_among_parts = (siblings == 1) & others
            for part, part_failed in zip(criterion.parts, part_fails, strict=True):
                alone = part_failed & alone_among_parts
                counts.append(_counts(status[part.id], part.id, part.kind, part.text, criterion.id, alone))

    verdict = codes(persons.column("verdict"), VERDICTS)
    tally = _tally(verdict, len(VERDICTS))
    return Funnel(
        trial=criteria.trial,
        as_of=as_of,
        engine=engine,
        cdm_version=cdm_version,
        persons=rows,
        verdicts={v: tally[k] for k, v in enumerate(VERDICTS)},
        steps=steps,
        criteria=counts,
        missing_codes=missing_codes,
    )


def _tally(positions: np.ndarray, size: int) -> list[int]:
    """How many of `positions` are 0, 1, ... size-1 (other values are not counted)."""
    return [_how_many(positions == k) for k in range(size)]


def _counts(
    status: np.ndarray, cid: str, kind: str, text: str, parent: str | None, alone: np.ndarray
) -> CriterionCounts:
    tally = _tally(status, len(STATUSES))
    return CriterionCounts(
        id=cid,
        kind=kind,
        text=text,
        parent=parent,
        passed=tally[0],
        failed=tally[1],
        unknown=tally[2],
        fails_alone=_how_many(alone),
    )
