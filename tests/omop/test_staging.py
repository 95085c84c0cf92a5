"""DuckDB staging (`Cdm.stage`): it changes no status, and `release` frees what it made.

The screen stages its main readings, side rows and gated condition and drug rows in
temporary tables while compiling; the same screen built without staging must give every
person the same statuses, and nothing staged may outlive the screen that read it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
import pytest

from trialscreen.omop.compiler import SEED, compile_screen
from trialscreen.omop.compiler.cdm import Cdm
from trialscreen.omop.compiler.testbed import CdmTestBed

from .test_compiler_helpers import AS_OF


def _temporary(con: ibis.BaseBackend) -> set[str]:
    rows = con.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    return {str(r[0]) for r in rows}


def _population() -> CdmTestBed:
    """Persons with results inside and outside their look-backs, a diagnosis and a medicine."""
    bed = CdmTestBed()
    for i in range(6):
        person = bed.person(gender="female" if i % 2 else "male", birth=date(1950 + 5 * i, 3, 1))
        bed.condition(person, "C92.02" if i % 3 else "I10", date(2026, 1, 10))
        bed.measurement(person, "718-7", datetime(2026, 11, 20, 8), value=80.0 + 10 * i, unit="g/L")
        bed.measurement(person, "718-7", AS_OF - timedelta(days=40 + i), value=50.0, unit="g/L")
        bed.measurement(person, "2160-0", datetime(2026, 11, 21, 9), value=0.8 + 0.3 * i, unit="mg/dL",
                        range_high=1.1)
        bed.measurement(person, "29463-7", AS_OF - timedelta(days=60), value=60.0 + i, unit="kg")
        bed.measurement(person, "59408-5", datetime(2026, 11, 22, 7), value=89.0 + i, unit="%")
        if i % 2:
            bed.drug(person, "1256", date(2026, 11, 1))
    return bed


def _frame(bed: CdmTestBed) -> tuple[pd.DataFrame, Any]:
    screen = compile_screen(SEED, bed.con, AS_OF)
    frame = screen.table.execute().sort_values("person_id").reset_index(drop=True)
    return frame, screen


def test_staging_changes_no_status(monkeypatch: pytest.MonkeyPatch) -> None:
    staged, screen = _frame(_population())
    screen.release()
    monkeypatch.setattr(Cdm, "stage", lambda self, rows, name: rows)
    plain, _ = _frame(_population())
    assert len(staged) == 6
    pd.testing.assert_frame_equal(staged, plain)


def test_release_drops_every_table_the_compiler_staged() -> None:
    bed = _population()
    before = _temporary(bed.con)
    frame, screen = _frame(bed)
    made = _temporary(bed.con) - before
    assert made, "the compiler staged nothing on DuckDB"
    screen.release()
    assert not (_temporary(bed.con) & made)
    assert set(frame["verdict"]) <= {"eligible", "needs_review", "ineligible"}
