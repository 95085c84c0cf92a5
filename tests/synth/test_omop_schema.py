"""The OMOP tables written hold exactly the columns, types and nullability of the v5.4 DDL."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.synth.helpers import DDL

ARROW_OF_DDL = {
    "integer": pa.int32(),
    "numeric": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "text": pa.string(),
}


def ddl_tables() -> dict[str, list[tuple[str, pa.DataType, bool]]]:
    text = DDL.read_text()
    out = {}
    for m in re.finditer(r"CREATE TABLE @cdmDatabaseSchema\.(\w+) \((.*?)\);", text, re.S):
        cols = []
        for line in m.group(2).strip().splitlines():
            parts = line.strip().rstrip(",").split()
            kind = parts[1].lower()
            arrow = pa.string() if kind.startswith("varchar") else ARROW_OF_DDL[kind]
            cols.append((parts[0].strip('"'), arrow, "NOT" in parts))
        out[m.group(1)] = cols
    return out


WRITTEN = (
    "person",
    "observation_period",
    "condition_occurrence",
    "measurement",
    "observation",
    "procedure_occurrence",
    "drug_exposure",
    "death",
    "concept",
    "concept_relationship",
    "concept_ancestor",
    "vocabulary",
    "cdm_source",
)


@pytest.mark.parametrize("table", WRITTEN)
def test_table_matches_ddl(population: Path, table: str) -> None:
    expected = ddl_tables()[table]
    schema = pq.read_schema(population / "omop" / f"{table}.parquet")
    assert [f.name for f in schema] == [c[0] for c in expected]
    for field, (name, kind, not_null) in zip(schema, expected, strict=True):
        assert field.type == kind, name
        assert field.nullable is not not_null, name


@pytest.mark.parametrize("table", WRITTEN)
def test_not_null_columns_hold_no_nulls(population: Path, table: str) -> None:
    data = pq.read_table(population / "omop" / f"{table}.parquet")
    for name, _, not_null in ddl_tables()[table]:
        if not_null:
            assert data.column(name).null_count == 0, f"{table}.{name}"


def test_only_omop_tables_are_written(population: Path) -> None:
    assert {p.stem for p in (population / "omop").glob("*.parquet")} == set(WRITTEN)
