"""Fixtures of the web tests: an app on a temporary SQLite file, and a throw-away
PostgreSQL server (Debian's, via scripts/ensure_postgres.sh)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trialscreen.web import Settings, create_app

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CTGOV = REPO_ROOT / ".." / "shared" / "data" / "ctgov" / "dgg32_clinical-trials-public"
ENSURE_POSTGRES = REPO_ROOT / "scripts" / "ensure_postgres.sh"
AS_OF = date(2026, 11, 25)
SEED = "NCT06125652"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_url=f"sqlite:///{tmp_path / 'web.db'}", as_of=AS_OF, apply_per_minute=600, apply_burst=50)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A running throw-away PostgreSQL server on a free loopback port, stopped at the end."""
    found = subprocess.run(["bash", str(ENSURE_POSTGRES)], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        pytest.skip(f"PostgreSQL TESTS SKIPPED: no server could be installed ({found.stderr.strip()})")
    bin_dir = Path(found.stdout.strip().splitlines()[-1])
    root = Path(tempfile.mkdtemp(prefix="trialscreen-web-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(
        _as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    subprocess.run(
        _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"]),
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
