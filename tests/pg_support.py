"""A real, throw-away PostgreSQL server for the tests that need one (OMOP engines, web, site).

Debian's server (installed by scripts/ensure_postgres.sh if missing), started with initdb and
pg_ctl in a temporary directory on a free loopback port, as the `postgres` user when the tests
run as root, and stopped at the end. Tests skip only when no server can be installed, and say so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
ENSURE_POSTGRES = REPO_ROOT / "scripts" / "ensure_postgres.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres(prefix: str, *, fsync: bool = True) -> Iterator[str]:
    """The URL of a running server (superuser `postgres`, trust auth); stopped and removed after.

    `fsync=False` is faster for tests that never crash the server itself.
    """
    found = subprocess.run(["bash", str(ENSURE_POSTGRES)], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        pytest.skip(
            "PostgreSQL TESTS SKIPPED: no server could be installed "
            f"({found.stderr.strip() or 'ensure_postgres.sh failed'})"
        )
    bin_dir = Path(found.stdout.strip().splitlines()[-1])
    root = Path(tempfile.mkdtemp(prefix=prefix))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(
        as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1" + ("" if fsync else " -c fsync=off")
    subprocess.run(
        as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
