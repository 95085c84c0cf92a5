"""Shared fixtures of the OMOP tests: the sample CDMs, a real PostgreSQL server, a Spark session.

The PostgreSQL server is Debian's, started with initdb/pg_ctl in a temporary directory on a
free loopback port (as the `postgres` user when the tests run as root) and stopped at the
end. Tests that need it skip only when no server can be installed, and say why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
OMOP_DATA = REPO_ROOT / ".." / "shared" / "data" / "omop"
SYNTHEA_54 = OMOP_DATA / "synthea27nj-5.4"
GIBLEED_53 = OMOP_DATA / "gibleed-5.3"
ENSURE_POSTGRES = REPO_ROOT / "scripts" / "ensure_postgres.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as `postgres` when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a running throw-away PostgreSQL server (superuser `postgres`, trust auth)."""
    found = subprocess.run(
        ["bash", str(ENSURE_POSTGRES)], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        pytest.skip(
            "PostgreSQL TESTS SKIPPED: no server could be installed "
            f"({found.stderr.strip() or 'ensure_postgres.sh failed'})"
        )
    bin_dir = Path(found.stdout.strip().splitlines()[-1])
    root = Path(tempfile.mkdtemp(prefix="trialscreen-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
             str(root / "log"), "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


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
