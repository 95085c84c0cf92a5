"""Past medicine use in SQL: `medication` with `timing: ever` or a `window`, on DuckDB.

A drug exposure counts for a window while its end date plus the window is after the as-of
date (no end date: ongoing, as for current use); eligible_from is the day the latest such
end leaves the window.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from trialscreen.criteria import CriteriaSet
from trialscreen.criteria.criterion import Criterion
from trialscreen.criteria.nodes import Medication
from trialscreen.omop.compiler import compile_screen
from trialscreen.omop.compiler.testbed import CdmTestBed

from .test_compiler_helpers import AS_OF

RULES = {
    "exc-within": Medication(valueset="immunosuppressant", window="P4W"),
    "exc-ever": Medication(valueset="immunosuppressant", timing="ever"),
    "exc-current": Medication(valueset="immunosuppressant"),
}
CRITERIA = CriteriaSet(
    trial="NCT00000000",
    criteria=tuple(Criterion(id=cid, kind="exclusion", text=cid, rule=rule) for cid, rule in RULES.items()),
)


def _screen(bed: CdmTestBed, as_of: date = AS_OF) -> dict[int, dict[str, Any]]:
    compiled = compile_screen(CRITERIA, bed.con, as_of)
    return {int(r["person_id"]): r for r in compiled.table.to_pyarrow().to_pylist()}


def _bed() -> tuple[CdmTestBed, dict[str, int]]:
    bed = CdmTestBed()
    people = {name: bed.person() for name in ("recent", "edge", "old", "ongoing", "open", "topical", "future", "none")}
    bed.drug(people["recent"], "42316", date(2026, 9, 1), end=date(2026, 11, 10))
    bed.drug(people["edge"], "42316", date(2026, 9, 1), end=AS_OF - timedelta(weeks=4))
    bed.drug(people["old"], "42316", date(2025, 1, 1), end=date(2025, 3, 1))
    bed.drug(people["ongoing"], "42316", date(2026, 10, 1), end=AS_OF + timedelta(days=10))
    bed.drug(people["open"], "42316", date(2020, 1, 1))
    bed.drug(people["topical"], "42316", date(2026, 11, 1), end=date(2026, 11, 20), route="6064005")
    bed.drug(people["future"], "42316", AS_OF + timedelta(days=1), end=AS_OF + timedelta(days=3))
    return bed, people


def test_window_ever_and_current_on_the_same_exposures() -> None:
    bed, p = _bed()
    rows = _screen(bed)
    expect = {
        "recent": ("fail", "fail", "pass"),
        "edge": ("pass", "fail", "pass"),  # end + 4 weeks is the as-of date: out
        "old": ("pass", "fail", "pass"),
        "ongoing": ("fail", "fail", "fail"),
        "open": ("fail", "fail", "fail"),
        "topical": ("pass", "pass", "pass"),
        "future": ("pass", "pass", "pass"),
        "none": ("pass", "pass", "pass"),
    }
    for name, (within, ever, current) in expect.items():
        row = rows[p[name]]
        assert (row["exc-within"], row["exc-ever"], row["exc-current"]) == (within, ever, current), name


def test_eligible_from_is_the_day_the_last_use_leaves_the_window() -> None:
    bed, p = _bed()
    rows = _screen(bed)
    assert rows[p["recent"]]["eligible_from:exc-within"] == date(2026, 12, 8)
    assert rows[p["ongoing"]]["eligible_from:exc-within"] == AS_OF + timedelta(days=10, weeks=4)
    assert rows[p["open"]]["eligible_from:exc-within"] is None


@pytest.mark.parametrize("days_after", [0, 27, 28])
def test_the_same_exposure_on_later_as_of_dates(days_after: int) -> None:
    bed, p = _bed()
    rows = _screen(bed, date(2026, 11, 10) + timedelta(days=days_after))
    assert rows[p["recent"]]["exc-within"] == ("fail" if days_after < 28 else "pass")
