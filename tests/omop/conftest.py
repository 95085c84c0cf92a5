"""Shared fixtures of the OMOP tests: the sample CDMs, a real PostgreSQL server, a Spark session.

The PostgreSQL server is Debian's, started with initdb/pg_ctl in a temporary directory on a
free loopback port (as the `postgres` user when the tests run as root) and stopped at the
end. Tests that need it skip only when no server can be installed, and say why.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_support import throwaway_postgres

REPO_ROOT = Path(__file__).resolve().parents[2]
OMOP_DATA = REPO_ROOT / ".." / "shared" / "data" / "omop"
SYNTHEA_54 = OMOP_DATA / "synthea27nj-5.4"
GIBLEED_53 = OMOP_DATA / "gibleed-5.3"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a running throw-away PostgreSQL server (superuser `postgres`, trust auth)."""
    with throwaway_postgres("trialscreen-pg-", fsync=False) as url:
        yield url


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local[2] SparkSession for the whole test run (start-up takes seconds)."""
    pytest.importorskip("pyspark", reason="Spark tests need pyspark (pip install 'pyspark>=4')")
    if shutil.which("java") is None:
        pytest.skip("Spark TESTS SKIPPED: no java on PATH (scripts/ensure_system.sh installs it)")
    from trialscreen.omop.engines import start_spark

    session = start_spark("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
