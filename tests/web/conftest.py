"""Fixtures of the web tests: an app on a temporary SQLite file, and a throw-away
PostgreSQL server (Debian's, via scripts/ensure_postgres.sh)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.pg_support import free_port, throwaway_postgres  # noqa: F401  (free_port: used by sibling tests)
from trialscreen.web import Settings, create_app

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CTGOV = REPO_ROOT / ".." / "shared" / "data" / "ctgov" / "dgg32_clinical-trials-public"
AS_OF = date(2026, 11, 25)
SEED = "NCT06125652"


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


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A running throw-away PostgreSQL server on a free loopback port, stopped at the end."""
    with throwaway_postgres("trialscreen-web-pg-") as url:
        yield url
