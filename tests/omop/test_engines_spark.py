"""Apache Spark (local[2], one session for the module): loads the same tables, screens the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialscreen.omop.engines import open_engine
from trialscreen.omop.run import load_criteria, screen
from trialscreen.omop.sources import parse_source

from .conftest import GIBLEED_53, SYNTHEA_54
from .engine_checks import AS_OF, fingerprint, needs_compiler, parquet_copy

CRITERIA = load_criteria("NCT06125652", None)


@pytest.fixture(scope="module")
def synthea_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthea sample as upper-case Parquet files, read by Spark itself."""
    return parquet_copy(SYNTHEA_54, tmp_path_factory.mktemp("synthea-parquet"), upper=True)


def test_spark_gets_a_v5_3_csv_source_through_duckdb(spark: object) -> None:
    with open_engine(parse_source(str(GIBLEED_53)), "spark", spark_session=spark) as session:
        assert session.cdm_version == "5.3"
        assert "unit_source_concept_id" in session.con.table("measurement").columns
        with open_engine(parse_source(str(GIBLEED_53)), "duckdb") as duck:
            tables = ("person", "measurement")  # few Spark jobs; the screen test covers the rest
            assert fingerprint(session.con, tables) == fingerprint(duck.con, tables)


@needs_compiler
def test_spark_screens_exactly_as_duckdb(spark: object, synthea_parquet: Path) -> None:
    with open_engine(parse_source(str(synthea_parquet)), "duckdb") as duck:
        expected, _ = screen(duck, CRITERIA, AS_OF)
    with open_engine(parse_source(str(synthea_parquet)), "spark", spark_session=spark) as session:
        got, _ = screen(session, CRITERIA, AS_OF)
    assert got.num_rows == expected.num_rows > 0
    assert got.equals(expected)
