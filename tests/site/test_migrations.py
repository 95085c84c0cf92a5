"""Migration 0002 goes up after the public side's 0001 and comes down again cleanly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config

from trialscreen.web.db import MIGRATIONS_DIR, make_engine, migrate

SITE_TABLES = {"site_users", "site_user_trials", "site_sessions", "site_candidates", "site_resources",
               "site_screenings", "site_decisions", "site_audit"}


def _run(engine: sqlalchemy.Engine, verb: str, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, target)


def test_up_down_up(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    assert set(sqlalchemy.inspect(engine).get_table_names()) >= SITE_TABLES
    _run(engine, "downgrade", "0001")
    tables = set(sqlalchemy.inspect(engine).get_table_names())
    assert not SITE_TABLES & tables and "applications" in tables
    migrate(engine)
    with engine.connect() as conn:
        triggers = {n for (n,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"site_audit_no_update", "site_audit_no_delete"}
