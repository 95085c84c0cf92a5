"""Alembic environment: runs on the connection the application hands over."""

from __future__ import annotations

from alembic import context

from trialscreen.web.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("run migrations through trialscreen.web.db.migrate(engine)")
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
