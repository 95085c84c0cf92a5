"""The compiled screen on real CDM shapes: the official v5.4 DDL and the two public samples."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import pytest

from trialscreen.omop.compiler import SEED, CdmError, compile_screen
from trialscreen.omop.engines import open_engine
from trialscreen.omop.sources import parse_source

from .conftest import GIBLEED_53, OMOP_DATA, SYNTHEA_54

AS_OF = date(2026, 11, 25)
STATUSES = {"pass", "fail", "unknown"}


def _check_rows(rows: list[dict[str, object]], columns: tuple[str, ...]) -> None:
    """Every status is a status, and the verdict follows from the top-level ones."""
    top = [c.id for c in SEED.criteria]
    for row in rows:
        assert {row[c] for c in columns} <= STATUSES
        worst = {row[c] for c in top}
        expected = "ineligible" if "fail" in worst else "needs_review" if "unknown" in worst else "eligible"
        assert row["verdict"] == expected
        assert row["inc-1"] == "unknown"  # OMOP holds no consent


def test_official_v54_ddl_has_every_column_the_compiler_reads() -> None:
    ddl = (OMOP_DATA / "cdm-5.4-ddl" / "OMOPCDM_duckdb_5.4_ddl.sql").read_text()
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE SCHEMA cdm")
    con.raw_sql(ddl.replace("@cdmDatabaseSchema", "cdm"))
    con.raw_sql("SET schema = 'cdm'")
    screen = compile_screen(SEED, con, AS_OF)
    assert screen.table.count().execute() == 0
    assert list(screen.table.columns[1 : len(screen.columns) + 1]) == list(screen.columns)


def test_a_missing_table_is_named() -> None:
    con = ibis.duckdb.connect()
    con.create_table("person", schema=ibis.schema({"person_id": "int64"}))
    with pytest.raises(CdmError, match="concept"):
        compile_screen(SEED, con, AS_OF)


@pytest.mark.parametrize(("folder", "persons"), [(SYNTHEA_54, 28), (GIBLEED_53, 2694)])
def test_public_samples_screen(folder: Path, persons: int) -> None:
    with open_engine(parse_source(str(folder))) as session:
        screen = compile_screen(SEED, session.con, AS_OF)
        rows = screen.table.to_pyarrow().to_pylist()
    assert len(rows) == persons
    _check_rows(rows, screen.columns)
    assert screen.missing_codes  # neither sample holds ICD-10-CM leukaemia codes
