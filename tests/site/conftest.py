"""Fixtures of the workspace tests: an app on a temporary SQLite file with staff and
applications in two trials; the web tests' PostgreSQL server and live server are reused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trialscreen.web import Settings, create_app

from ..web.conftest import pg_url  # noqa: F401  (a session fixture shared with the web tests)
from .site_support import AS_OF, OTHER, SEED, add_users, apply


@pytest.fixture(autouse=True, scope="session")
def cheap_argon2() -> Iterator[None]:
    """argon2 is slow on purpose; the tests hash with the same code at tiny cost (still argon2id)."""
    from argon2 import PasswordHasher

    from trialscreen.web.site import accounts

    real = accounts._hasher
    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    yield
    accounts.use_hasher(real)


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    application = create_app(Settings(db_url=f"sqlite:///{tmp_path / 'site.db'}", as_of=AS_OF))
    application.state.user_ids = add_users(application)
    application.state.applications = {
        "seed": apply(application, SEED, "Ann Seedapplicant", "needs_review"),
        "seed2": apply(application, SEED, "Bob Secondapplicant", "eligible"),
        "other": apply(application, OTHER, "Olga Otherapplicant", "ineligible"),
    }
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
