"""Helpers for the compiler tests: screen a seeded CDM on a subset of the seed trial's criteria.

Compiling only the criteria a test looks at keeps each test well under a second.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from trialscreen.criteria import CriteriaSet
from trialscreen.omop.compiler import SEED, compile_screen
from trialscreen.omop.compiler.testbed import CdmTestBed

AS_OF = date(2026, 11, 25)


def subset(*ids: str) -> CriteriaSet:
    """The seed trial restricted to the top-level criteria `ids` (definitions kept)."""
    wanted = [c for c in SEED.criteria if c.id in ids]
    assert len(wanted) == len(ids), f"unknown criteria in {ids}"
    return CriteriaSet(trial=SEED.trial, definitions=SEED.definitions, criteria=tuple(wanted))


def screen(bed: CdmTestBed, *ids: str, as_of: date = AS_OF) -> dict[int, dict[str, Any]]:
    """person_id -> the row of the compiled screen (statuses, eligible_from, verdict)."""
    compiled = compile_screen(subset(*ids), bed.con, as_of)
    return {int(r["person_id"]): r for r in compiled.table.to_pyarrow().to_pylist()}
