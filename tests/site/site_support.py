"""Shared helpers of the workspace tests: users, applications, a seed-trial record to upload.

A uniquely named module (not conftest) so the test modules can import it by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trialscreen.fhir.builder import CPT, PatientBuilder
from trialscreen.web.site.accounts import add_user

from ..web.conftest import free_port

AS_OF = date(2026, 11, 25)
REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = "NCT06125652"
OTHER = "NCT01234567"
PASSWORD = "a long enough password"
USERS = {
    "admin": ("admin", [SEED]),
    "coord": ("coordinator", [SEED]),
    "inv": ("investigator", [SEED]),
    "other": ("coordinator", [OTHER]),
    "otherinv": ("investigator", [OTHER]),
}


def add_users(app: FastAPI) -> dict[str, int]:
    return {name: add_user(app.state.engine, name, PASSWORD, role, trials) for name, (role, trials) in USERS.items()}


def apply(app: FastAPI, trial: str, name: str, prescreen: str | None = "needs_review") -> str:
    return str(app.state.store.add(trial, name, f"{name.split()[0].lower()}@example.org", None, True, prescreen).id)


def bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/site/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def day(days_before: int) -> str:
    return (AS_OF - timedelta(days=days_before)).isoformat()


def candidate_record(pid: str = "pat-1", gender: str = "male", auto_sct_days_ago: int | None = None) -> PatientBuilder:
    """A relapsed-AML patient who meets every criterion the record can decide on AS_OF;
    consent and the investigator's statements are left to the site (inc-8 is the patient's own)."""
    p = PatientBuilder(pid, birth_date="1980-06-15", gender=gender)
    p.condition("C92.02", onset="2025-06-01")
    p.attestation({"inc-8": True}, authored=day(10))
    recent = day(5)
    p.observation("89247-1", value_integer=1, when=recent, category="survey")
    for loinc, value, unit in (("1920-8", 30, "U/L"), ("1742-6", 30, "U/L"), ("1975-2", 0.8, "mg/dL"),
                               ("2160-0", 0.8, "mg/dL"), ("718-7", 100, "g/L")):
        p.observation(loinc, value=value, unit=unit, when=recent)
    p.observation("59408-5", value=97, unit="%", when=recent, category="vital-signs")
    p.observation("10230-1", value=60, unit="%", when=recent, category="imaging")
    for loinc in ("5196-1", "16128-1", "7917-8", "20507-0"):
        p.observation(loinc, value_code="260385009", when=recent)
    p.observation("30247-1", value_string="not detected", when=recent)
    if gender == "female":
        p.observation("2118-8", value_code="260385009", when=day(2))
    if auto_sct_days_ago is not None:
        p.procedure(CPT, "38241", when=day(auto_sct_days_ago))
    return p


def statuses(report: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(node: dict[str, Any]) -> None:
        out[node["id"]] = node["status"]
        for part in node["parts"]:
            walk(part)

    for c in report["criteria"]:
        walk(c)
    return out


@contextmanager
def served(db: str, log: Path) -> Iterator[str]:
    """`trialscreen serve` as its own process on `db`; killed with SIGKILL when the block ends."""
    port = free_port()
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "trialscreen.cli.app", "serve", "--port", str(port), "--db", db,
             "--as-of", AS_OF.isoformat()],
            stdout=out, stderr=out, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield url
        os.killpg(server.pid, signal.SIGKILL)  # the crash, whenever the caller is done
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
