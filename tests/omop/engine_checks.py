"""Helpers the engine tests share: what a loaded table looks like, whether the compiler exists."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pytest

from trialscreen.omop.sources import SCREEN_TABLES

AS_OF = date(2026, 11, 25)


def compiler_ready() -> bool:
    try:
        from trialscreen.omop.compiler import compile_screen  # noqa: F401
    except ImportError:
        return False
    return True


needs_compiler = pytest.mark.skipif(
    not compiler_ready(), reason="trialscreen.omop.compiler.compile_screen not available yet"
)


def fingerprint(con: ibis.BaseBackend, tables: tuple[str, ...] = tuple(SCREEN_TABLES)) -> dict[str, Any]:
    """Per screen table: row count, and per needed column its non-null count, min and max.

    One aggregate query per table, so a slow-starting engine (Spark) runs few jobs.
    """
    out: dict[str, Any] = {}
    for name in tables:
        columns = SCREEN_TABLES[name]
        table = con.table(name)
        metrics = {"rows": table.count()}
        for i, column in enumerate(columns):
            metrics[f"n{i}"] = table[column].count()
            metrics[f"lo{i}"] = table[column].min()
            metrics[f"hi{i}"] = table[column].max()
        row = table.aggregate(**metrics).to_pyarrow().to_pylist()[0]
        stats: dict[str, Any] = {"rows": int(row["rows"])}
        for i, column in enumerate(columns):
            stats[column] = (int(row[f"n{i}"]), _plain(row[f"lo{i}"]), _plain(row[f"hi{i}"]))
        out[name] = stats
    return out


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()  # an engine may hand a date column back as a timestamp
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(value) if float(value).is_integer() else float(value)
    except (TypeError, ValueError):
        return str(value)


def parquet_copy(source: Path, target: Path, *, upper: bool = False) -> Path:
    """A CSV sample as a directory of Parquet files (column types as DuckDB guesses them)."""
    target.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for path in source.iterdir():
        name = path.name.split(".")[0]
        name = name.upper() if upper else name.lower()
        con.execute(f"COPY (SELECT * FROM read_csv('{path}', header=true)) TO '{target}/{name}.parquet'")
    con.close()
    return target
