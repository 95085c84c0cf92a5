"""Constants and readers shared by the synth tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson

AS_OF = date(2026, 11, 25)
PERSONS = 3000
SEED = 20261125
REPO = Path(__file__).resolve().parents[2]
DDL = REPO / ".." / "shared" / "data" / "omop" / "cdm-5.4-ddl" / "OMOPCDM_duckdb_5.4_ddl.sql"


def read_ndjson(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for line in f:
            yield orjson.loads(line)
