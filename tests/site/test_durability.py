"""An acknowledged write is never lost: `trialscreen serve` runs as a real process on SQLite
(WAL, synchronous=FULL) and on a real PostgreSQL server, takes a burst of writes from a
loopback client (decisions and new candidates, four at a time), is killed with SIGKILL in the
middle, and restarted; every acknowledged write is there and the database is consistent."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from trialscreen.web.db import make_engine, migrate
from trialscreen.web.site import accounts

from .site_support import PASSWORD, SEED, served

KILL_AFTER = 40
WORKERS = 4


def add_user(db: str, name: str, role: str) -> None:
    """(`trialscreen users add` is tested in test_users_cli; here the same function, in-process.)"""
    engine = make_engine(db)
    migrate(engine)
    accounts.add_user(engine, name, PASSWORD, role, [SEED])
    engine.dispose()


def login(url: str) -> dict[str, str]:
    r = httpx.post(f"{url}/site/api/login", json={"username": "coord", "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def burst(url: str, headers: dict[str, str], candidates: list[str], kill: threading.Event) -> tuple[
        dict[int, tuple[str, str]], dict[str, str], int]:
    """Writes from WORKERS threads until the server dies: acknowledged decisions and candidates."""
    decisions: dict[int, tuple[str, str]] = {}
    made: dict[str, str] = {}
    lock = threading.Lock()
    failures = 0

    def work(worker: int) -> None:
        nonlocal failures
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            for n in range(10_000):
                try:
                    if n % 3 == 2:
                        label = f"durable-{worker}-{n}"
                        r = client.post("/site/api/candidates", json={"trial": SEED, "label": label})
                        if r.status_code == 201:
                            with lock:
                                made[r.json()["candidate_id"]] = label
                    else:
                        cid = candidates[(worker + n) % len(candidates)]
                        note = f"w{worker} n{n}"
                        r = client.post(f"/site/api/candidates/{cid}/decision",
                                        json={"decision": "withdrawn", "note": note})
                        if r.status_code == 201:
                            with lock:
                                decisions[r.json()["id"]] = (cid, note)
                    assert r.status_code == 201, r.text
                    with lock:
                        if len(decisions) + len(made) >= KILL_AFTER:
                            kill.set()
                except httpx.TransportError:
                    with lock:
                        failures += 1
                    return

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return decisions, made, failures


def crash_and_check(db: str, tmp_path: Path) -> None:
    add_user(db, "coord", "coordinator")
    log = tmp_path / "server.log"
    kill = threading.Event()
    with served(db, log) as url:
        headers = login(url)
        candidates = [
            httpx.post(f"{url}/site/api/candidates", headers=headers, json={"trial": SEED, "label": f"base {i}"},
                       timeout=10).json()["candidate_id"]
            for i in range(3)
        ]
        result: dict[str, object] = {}
        def run() -> None:
            result.update(zip(("d", "m", "f"), burst(url, headers, candidates, kill), strict=True))

        runner = threading.Thread(target=run)
        runner.start()
        assert kill.wait(timeout=120), "the burst did not reach the kill point"
    # the server is SIGKILLed here, with requests in flight
    runner.join(timeout=60)
    decisions = result["d"]
    made = result["m"]
    assert isinstance(decisions, dict) and isinstance(made, dict)
    assert len(decisions) + len(made) >= KILL_AFTER
    assert result["f"] == WORKERS, "every worker should have seen the server die"
    print(f"{db.split(':')[0]}: {len(decisions)} decisions and {len(made)} candidates acknowledged before SIGKILL")
    with served(db, log) as url:  # restart on the same database
        headers = login(url)
        stored: dict[int, tuple[str, str]] = {}
        for cid in candidates:
            detail = httpx.get(f"{url}/site/api/candidates/{cid}", headers=headers, timeout=10).json()
            stored.update({d["id"]: (cid, d["note"]) for d in detail["decisions"]})
            assert detail["status"] == ("withdrawn" if detail["decisions"] else "new")
        listed = {c["id"]: c["label"] for c in
                  httpx.get(f"{url}/site/api/candidates", headers=headers, timeout=10).json()}
    for key, value in decisions.items():
        assert stored.get(key) == value, f"acknowledged decision {key} was lost"
    for cid, label in made.items():
        assert listed.get(cid) == label, f"acknowledged candidate {cid} was lost"
    engine = make_engine(db)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # a decision and its audit event are one transaction: both or neither
        n_decisions = conn.execute(sqlalchemy.text("SELECT count(*) FROM site_decisions")).scalar_one()
        n_audit = conn.execute(sqlalchemy.text("SELECT count(*) FROM site_audit WHERE action = 'decide'")).scalar_one()
        assert n_decisions == n_audit >= len(decisions)
        orphans = conn.execute(sqlalchemy.text(
            "SELECT count(*) FROM site_decisions d LEFT JOIN site_candidates c ON c.id = d.candidate_id "
            "WHERE c.id IS NULL")).scalar()
        assert orphans == 0
    engine.dispose()
    server_log = log.read_text(errors="replace")
    assert "durable-" not in server_log and "base 0" not in server_log  # labels are patient data


def test_sqlite_keeps_every_acknowledged_write_through_sigkill(tmp_path: Path) -> None:
    crash_and_check(f"sqlite:///{tmp_path / 'durable.db'}", tmp_path)


def test_postgresql_keeps_every_acknowledged_write_through_sigkill(pg_url: str, tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg")
    name = f"site_durability_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(pg_url.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    try:
        crash_and_check(url, tmp_path)
        # the audit is append-only on PostgreSQL too
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM site_audit")
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
