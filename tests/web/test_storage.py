"""Applications are stored durably on SQLite and PostgreSQL: migrations, duplicates under
concurrency, nothing half-written, and an acknowledged application survives a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from trialscreen.web.db import Application, Store, make_engine, migrate

from .conftest import SEED, free_port


def _check_store(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # idempotent
    assert "applications" in inspect(engine).get_table_names()
    store = Store(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM applications"))
    first = store.add(SEED, "Ann Lee", "ann@example.org", None, True)
    again = store.add(SEED, "ann  lee", "ANN@example.org ", None, True)
    assert not first.duplicate and again.duplicate and again.id == first.id
    assert store.count(SEED) == 1 and store.count("NCT00000000") == 0
    # Eight identical submissions racing: exactly one row.
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.add(SEED, "Race Person", None, "+1 555 0100", True), range(8)))
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.id for r in results}) == 1
    assert store.count(SEED) == 2
    # A write that fails leaves nothing behind.
    with pytest.raises(DBAPIError), store.sessions.begin() as session:
        session.add(Application(id="x" * 36, trial=SEED, name="Half Written", email=None, phone=None,
                                consent=True, fingerprint="f" * 64, created_at=first.created_at))
        session.flush()
        session.execute(text("SELECT * FROM no_such_table"))
    assert store.count(SEED) == 2
    with engine.connect() as conn:
        assert conn.execute(select(Application).where(Application.name == "Half Written")).first() is None
    engine.dispose()


def test_sqlite_store(tmp_path: Path) -> None:
    _check_store(f"sqlite:///{tmp_path / 'apps.db'}")


def test_postgresql_store(pg_url: str) -> None:
    _check_store(pg_url)


def test_postgresql_app(pg_url: str) -> None:
    from fastapi.testclient import TestClient

    from trialscreen.web import Settings, create_app

    client = TestClient(create_app(Settings(db_url=pg_url)))
    before = client.get(f"/api/trials/{SEED}").json()["patients_applied"]
    r = client.post(f"/api/trials/{SEED}/applications", json={"name": "Pat Gres", "email": "pg@example.org", "consent": True})
    assert r.status_code == 201
    assert client.get(f"/api/trials/{SEED}").json()["patients_applied"] == before + 1


def test_acknowledged_application_survives_a_crash(tmp_path: Path) -> None:
    """Kill the server with SIGKILL right after it acknowledged: the application is there."""
    db = tmp_path / "crash.db"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "trialscreen.cli.app", "serve", "--port", str(port), "--db", f"sqlite:///{db}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        r = httpx.post(f"http://127.0.0.1:{port}/api/trials/{SEED}/applications",
                       json={"name": "Kim Crash", "email": "kim@example.org", "consent": True}, timeout=10)
        assert r.status_code == 201
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    store = Store(make_engine(f"sqlite:///{db}"))
    row = store.get(r.json()["id"])
    assert row is not None and row.name == "Kim Crash" and store.count(SEED) == 1


def test_count_is_kept_briefly_and_forgotten_on_apply(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ttl.db'}"
    engine = make_engine(url)
    migrate(engine)
    mine, other = Store(engine, count_ttl=60), Store(make_engine(url), count_ttl=0)
    assert mine.count(SEED) == 0
    other.add(SEED, "Other Process", "o@example.org", None, True)
    assert mine.count(SEED) == 0  # another process's application shows within the TTL
    assert other.count(SEED) == 1
    mine.add(SEED, "This Process", "t@example.org", None, True)
    assert mine.count(SEED) == 2  # our own application shows at once
