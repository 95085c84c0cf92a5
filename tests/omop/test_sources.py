"""Reading OMOP sources: directories in any case and format, DuckDB files, versions, bad input."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialscreen.omop.engines import open_engine
from trialscreen.omop.sources import (
    SCREEN_TABLES,
    DirectorySource,
    DuckDBFileSource,
    PostgresSource,
    SourceError,
    UsageError,
    column_type,
    discover,
    normalise_version,
    parse_source,
    redact,
)

from .conftest import GIBLEED_53, OMOP_DATA, SYNTHEA_54

FIELD_SPEC = OMOP_DATA / "cdm-5.4-ddl" / "OMOP_CDMv5.4_Field_Level.csv"


def _family(datatype: str) -> str:
    datatype = datatype.lower()
    if "integer" in datatype:
        return "int64"
    if "float" in datatype or "numeric" in datatype:
        return "float64"
    if datatype == "date":
        return "date"
    if "datetime" in datatype:
        return "timestamp"
    return "string"


def test_column_conventions_match_every_field_of_the_cdm_5_4_specification() -> None:
    with FIELD_SPEC.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 400
    wrong = []
    for row in rows:
        column = row["cdmFieldName"].strip('"').lower()
        expected = _family(row["cdmDatatype"])
        got = column_type(column)
        # `quantity` is a float in drug_exposure and specimen, an integer elsewhere
        if got != expected and not (column == "quantity" and got == "float64"):
            wrong.append((row["cdmTableName"], column, expected, got))
    assert wrong == []


@given(st.sampled_from(["5.4", "v5.4", "V5.4.1", "CDM v5.4.0", " 5.4 "]))
def test_version_strings_of_5_4_normalise(raw: str) -> None:
    assert normalise_version(raw) == "5.4"


def test_unparsable_version_is_kept_for_the_message() -> None:
    assert normalise_version("unknown") == "unknown"


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_discover_accepts_any_case_and_every_format(tmp_path: Path) -> None:
    _write_csv(tmp_path / "PERSON.csv.gz", ["person_id"], [[1]])
    _write_csv(tmp_path / "Measurement.CSV", ["person_id"], [[1]])
    duckdb.sql("COPY (SELECT 1 AS concept_id) TO '" + str(tmp_path / "concept.parquet") + "'")
    parts = tmp_path / "DRUG_EXPOSURE"
    parts.mkdir()
    duckdb.sql("COPY (SELECT 1 AS person_id) TO '" + str(parts / "part-0.parquet") + "'")
    (tmp_path / "README.md").write_text("not a table")
    found = discover(tmp_path)
    assert set(found) == {"person", "measurement", "concept", "drug_exposure"}
    assert found["person"].format == "csv"
    assert found["drug_exposure"].format == "parquet"
    assert found["drug_exposure"].glob().endswith("*.parquet")


def test_two_files_for_one_table_is_an_error_naming_both(tmp_path: Path) -> None:
    _write_csv(tmp_path / "person.csv", ["person_id"], [[1]])
    _write_csv(tmp_path / "PERSON.csv.gz", ["person_id"], [[1]])
    with pytest.raises(SourceError, match="two files for table person"):
        discover(tmp_path)


def test_parse_source_kinds(tmp_path: Path) -> None:
    assert isinstance(parse_source(str(SYNTHEA_54)), DirectorySource)
    db = tmp_path / "cdm.duckdb"
    duckdb.connect(str(db)).close()
    assert isinstance(parse_source(str(db)), DuckDBFileSource)
    pg = parse_source("postgresql://u:secret@db.example:5433/ohdsi?schema=cdm")
    assert isinstance(pg, PostgresSource)
    assert pg.schema == "cdm"
    assert "secret" not in pg.description
    with_option = parse_source("postgresql://u@h/db", schema="x")
    assert isinstance(with_option, PostgresSource) and with_option.schema == "x"


def test_parse_source_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        parse_source(str(tmp_path / "absent"))
    with pytest.raises(SourceError, match="no OMOP tables found"):
        parse_source(str(tmp_path))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SourceError, match="not a DuckDB file"):
        parse_source(str(text))
    with pytest.raises(UsageError, match="schema"):
        parse_source("postgresql://u@h:5432/db")


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://me:pw@h:1/d") == "postgresql://me:***@h:1/d"
    assert redact("postgresql://me@h:1/d") == "postgresql://me@h:1/d"


def test_synthea_5_4_sample_loads_with_cdm_types() -> None:
    with open_engine(parse_source(str(SYNTHEA_54))) as session:
        assert session.cdm_version == "5.4"
        assert set(SCREEN_TABLES) <= set(session.tables)
        schema = session.con.table("measurement").schema()
        assert schema["person_id"].is_integer()
        assert schema["measurement_date"].is_date()
        assert schema["value_as_number"].is_floating()
        assert schema["measurement_source_value"].is_string()
        persons = session.con.table("person").count().execute()
        assert persons == 28


def test_gibleed_5_3_sample_gets_v5_4_columns_and_integer_ids() -> None:
    with open_engine(parse_source(str(GIBLEED_53))) as session:
        assert session.cdm_version == "5.3"
        measurement = session.con.table("measurement")
        assert "unit_source_concept_id" in measurement.columns
        assert measurement.unit_source_concept_id.notnull().sum().execute() == 0
        assert measurement.schema()["person_id"].is_integer()  # the CSV holds "974.0"
        visits = session.con.table("visit_occurrence").columns
        assert "admitted_from_concept_id" in visits
        assert "admitting_source_concept_id" not in visits
        # ids read as floats in the CSV come back as the same whole numbers
        ids = session.con.table("person").person_id.execute()
        assert ids.min() > 0 and (ids == ids.astype("int64")).all()


def _copy_sample_as_parquet(target: Path, *, upper: bool, drop: str | None = None) -> None:
    """The synthea sample as Parquet files named in upper or lower case."""
    con = duckdb.connect()
    for path in SYNTHEA_54.iterdir():
        name = path.name.split(".")[0]
        if drop and name.lower() == drop:
            continue
        out = target / f"{name.upper() if upper else name.lower()}.parquet"
        con.execute(f"COPY (SELECT * FROM read_csv('{path}', header=true)) TO '{out}'")
    con.close()


def test_parquet_directory_in_upper_case_screens_the_same_tables(tmp_path: Path) -> None:
    _copy_sample_as_parquet(tmp_path, upper=True)
    with open_engine(parse_source(str(tmp_path))) as session:
        assert session.cdm_version == "5.4"
        assert session.con.table("person").count().execute() == 28
        assert session.con.table("measurement").count().execute() == 10040


def test_missing_table_is_named(tmp_path: Path) -> None:
    _copy_sample_as_parquet(tmp_path, upper=False, drop="measurement")
    with pytest.raises(SourceError, match="missing OMOP table measurement"):
        open_engine(parse_source(str(tmp_path))).__enter__()


def test_missing_column_is_named(tmp_path: Path) -> None:
    _copy_sample_as_parquet(tmp_path, upper=False)
    con = duckdb.connect()
    path = tmp_path / "person.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (year_of_birth) FROM '{path}') TO '{tmp_path}/p2.parquet'")
    (tmp_path / "p2.parquet").replace(path)
    with pytest.raises(SourceError, match="table person has no column year_of_birth"):
        open_engine(parse_source(str(tmp_path))).__enter__()


def test_unreadable_cdm_version_is_refused(tmp_path: Path) -> None:
    _copy_sample_as_parquet(tmp_path, upper=False)
    con = duckdb.connect()
    path = tmp_path / "cdm_source.parquet"
    con.execute(
        f"COPY (SELECT * REPLACE ('v6.0' AS cdm_version) FROM '{path}') TO '{tmp_path}/c.parquet'"
    )
    (tmp_path / "c.parquet").replace(path)
    with pytest.raises(SourceError, match=r"version 'v6.0' cannot be read"):
        open_engine(parse_source(str(tmp_path))).__enter__()


def test_duckdb_file_with_a_schema(tmp_path: Path) -> None:
    db = tmp_path / "hospital.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA cdm")
    for path in SYNTHEA_54.iterdir():
        name = path.name.split(".")[0]
        con.execute(f"CREATE TABLE cdm.{name} AS SELECT * FROM read_csv('{path}', header=true)")
    con.close()
    with open_engine(parse_source(str(db), schema="cdm")) as session:
        assert session.cdm_version == "5.4"
        assert session.con.table("person").count().execute() == 28
    with pytest.raises(SourceError, match="missing OMOP tables"):
        open_engine(parse_source(str(db))).__enter__()  # main schema is empty


def test_duckdb_memory_limit_is_applied_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALSCREEN_DUCKDB_MEMORY", "2GB")
    with open_engine(parse_source(str(SYNTHEA_54))) as session:
        limit, spill = session.con.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
        assert limit.endswith("GiB") and float(limit.split()[0]) < 2
        assert Path(spill).is_dir()
    assert not Path(spill).exists()  # the spill directory goes with the session
    monkeypatch.setenv("TRIALSCREEN_DUCKDB_MEMORY", "plenty")
    with pytest.raises(UsageError, match="TRIALSCREEN_DUCKDB_MEMORY=plenty: not a memory size"):
        open_engine(parse_source(str(SYNTHEA_54))).__enter__()
