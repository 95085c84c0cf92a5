"""DuckDB staging (`Cdm.stage`): it changes no status, and `release` frees what it made.

The screen stages its readings (every result row any relation reads: the main analytes,
the set-aside ones with their oxygen components, the Cockcroft-Gault inputs) and its gated
condition and drug rows in temporary tables while compiling; the same screen built without
staging must give every person the same statuses, the screen itself must read the results
only from the staged table, and nothing staged may outlive the screen that read it.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
import pytest

from trialscreen.knowledge import Knowledge, knowledge
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


def _frame(bed: CdmTestBed, kb: Knowledge | None = None) -> tuple[pd.DataFrame, Any]:
    screen = compile_screen(SEED, bed.con, AS_OF, kb)
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


def test_the_screen_reads_results_only_from_the_one_staged_table() -> None:
    """SpO2 with its oxygen set-aside and the Cockcroft-Gault inputs filter the staged
    readings: no relation scans measurement again."""
    bed = _population()
    spo2 = bed.measurement(1, "59408-5", datetime(2026, 11, 23, 7), value=97.0, unit="%")
    bed.measurement(1, "3151-8", datetime(2026, 11, 23, 7), value=2.0, unit="L/min", event_id=spo2)
    before = _temporary(bed.con)
    screen = compile_screen(SEED, bed.con, AS_OF)
    made = _temporary(bed.con) - before
    sql = str(ibis.to_sql(screen.table, dialect="duckdb"))
    readings = [name for name in made if "readings" in name]
    assert len(readings) == 1
    assert '"measurement"' not in sql and "measurement_concept_id" not in sql
    assert readings[0] in sql
    row = screen.table.filter(screen.table.person_id == 1).execute().iloc[0]
    assert row["inc-6.spo2"] == "fail"  # the 97 % on oxygen is set aside: 89 % is the latest
    screen.release()


def _oxygen_claimed_by_weight() -> Knowledge:
    """The knowledge with SpO2's oxygen-flow component coded as body weight, a concept an
    analyte already reads (so the component cannot be a code of the staged readings)."""
    kb = copy.copy(knowledge())
    spo2 = kb.analyte("spo2")
    flow, *others = spo2.set_aside_when_component
    rule = dataclasses.replace(flow, code="29463-7")
    kb.analytes = {**kb.analytes, "spo2": dataclasses.replace(spo2, set_aside_when_component=(rule, *others))}
    return kb


def test_a_component_an_analyte_claims_is_read_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    kb = _oxygen_claimed_by_weight()
    bed = _population()
    spo2 = bed.measurement(2, "59408-5", datetime(2026, 11, 23, 7), value=97.0, unit="%")
    bed.measurement(2, "29463-7", datetime(2026, 11, 23, 7), value=61.0, unit="kg", event_id=spo2)
    staged, screen = _frame(bed, kb)
    screen.release()
    by_person = staged.set_index("person_id")
    assert by_person.loc[2, "inc-6.spo2"] == "fail"  # set aside by the linked "component": 90 % stays
    assert by_person.loc[4, "inc-6.spo2"] == "pass"  # its weight is linked to nothing: 92 % stands
    monkeypatch.setattr(Cdm, "stage", lambda self, rows, name: rows)
    bed = _population()
    spo2 = bed.measurement(2, "59408-5", datetime(2026, 11, 23, 7), value=97.0, unit="%")
    bed.measurement(2, "29463-7", datetime(2026, 11, 23, 7), value=61.0, unit="kg", event_id=spo2)
    plain, _ = _frame(bed, kb)
    pd.testing.assert_frame_equal(staged, plain)
