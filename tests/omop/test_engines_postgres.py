"""PostgreSQL, a real server: file sources loaded into it, a CDM schema screened in place."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
import pytest

from trialscreen.omop.engines import _copy_into_postgres, _pg_connect, open_engine
from trialscreen.omop.run import load_criteria, screen
from trialscreen.omop.sources import SourceError, parse_source

from .conftest import GIBLEED_53, SYNTHEA_54
from .engine_checks import AS_OF, fingerprint, needs_compiler

CRITERIA = load_criteria("NCT06125652", None)


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as con:
        return {row[0] for row in con.execute("SELECT schema_name FROM information_schema.schemata")}


def _load_raw(url: str, schema: str, source: Path, skip: tuple[str, ...] = ()) -> str:
    """Put a CSV sample into `schema` as it is (v5.3 columns, DuckDB's guessed types)."""
    pg = _pg_connect(url, None)
    try:
        pg.create_database(schema, force=True)
        con = duckdb.connect()
        for path in source.iterdir():
            name = path.name.split(".")[0].lower()
            if name in skip:
                continue
            data = con.execute(f"SELECT * FROM read_csv('{path}', header=true)").to_arrow_table()
            _copy_into_postgres(pg, schema, name, data)
    finally:
        pg.disconnect()
    return f"{url}?schema={schema}"


def test_a_file_source_is_loaded_into_a_work_schema_that_is_dropped(pg_server: str) -> None:
    before = _schemas(pg_server)
    with open_engine(parse_source(str(SYNTHEA_54)), "duckdb") as duck:
        expected = fingerprint(duck.con)
    with open_engine(parse_source(str(SYNTHEA_54)), "postgres", pg_url=pg_server) as pg:
        assert pg.cdm_version == "5.4"
        assert len(_schemas(pg_server) - before) == 1
        assert fingerprint(pg.con) == expected
    assert _schemas(pg_server) == before


def test_a_v5_3_schema_is_screened_in_place_through_conforming_views(pg_server: str) -> None:
    url = _load_raw(pg_server, "gibleed", GIBLEED_53)
    with open_engine(parse_source(url), "postgres") as pg:
        assert pg.cdm_version == "5.3"
        measurement = pg.con.table("measurement")
        assert "unit_source_concept_id" in measurement.columns
        assert measurement.schema()["person_id"].is_integer()
        with open_engine(parse_source(str(GIBLEED_53)), "duckdb") as duck:
            assert fingerprint(pg.con) == fingerprint(duck.con)
    assert "gibleed" in _schemas(pg_server)  # the user's schema is left alone


def test_a_schema_missing_a_table_is_named(pg_server: str) -> None:
    url = _load_raw(pg_server, "partial", SYNTHEA_54, skip=("concept_ancestor",))
    with pytest.raises(SourceError, match="missing OMOP table concept_ancestor"):
        open_engine(parse_source(url), "postgres").__enter__()


@needs_compiler
@pytest.mark.parametrize("source", [SYNTHEA_54, GIBLEED_53], ids=["synthea27nj-5.4", "gibleed-5.3"])
def test_postgres_screens_exactly_as_duckdb(pg_server: str, source: Path) -> None:
    with open_engine(parse_source(str(source)), "duckdb") as duck:
        expected, _ = screen(duck, CRITERIA, AS_OF)
    with open_engine(parse_source(str(source)), "postgres", pg_url=pg_server) as pg:
        got, _ = screen(pg, CRITERIA, AS_OF)
    assert got.num_rows == expected.num_rows > 0
    assert got.equals(expected)
