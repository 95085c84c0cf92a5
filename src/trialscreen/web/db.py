"""Storage of applications through SQLAlchemy; the schema is owned by the Alembic migrations.

SQLite in a file is the embedded default (WAL journal, synchronous FULL: a committed
application survives a crash); PostgreSQL is supported. An application is written in one
transaction and acknowledged only after the commit returns, so an acknowledged application
is never lost and a failed request leaves nothing behind. Duplicates are caught by a unique
key on (trial, fingerprint), so two identical submissions racing each other still store one.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    String,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    pass


class Application(Base):
    """One person's request to be contacted by a trial site."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("trial", "fingerprint", name="uq_applications_trial_fingerprint"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    trial: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    prescreen_result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Stored:
    """What the applicant is told: the reference, when, and whether it was already there."""

    id: str
    trial: str
    created_at: datetime
    duplicate: bool


def fingerprint(trial: str, name: str, email: str | None, phone: str | None) -> str:
    """Same person, same trial: name and contact compared case- and space-insensitively."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    key = "\x1f".join([trial.upper(), " ".join(name.lower().split()), (email or "").strip().lower(), digits])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url` (sqlite:///path.db or postgresql+psycopg://...)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    """Applications: add (with duplicate detection), count, fetch.

    `count` is asked by every view of a trial page, so it is kept for `count_ttl` seconds;
    an application added through this store forgets it at once, so a person who applies sees
    the new count; other server processes' applications show within `count_ttl`.
    """

    def __init__(self, engine: Engine, count_ttl: float = 1.0) -> None:
        self.engine = engine
        self.count_ttl = count_ttl
        self._counts: dict[str, tuple[int, float]] = {}
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._count = (
            select(func.count()).select_from(Application).where(Application.trial == bindparam("trial"))
        )

    def add(
        self,
        trial: str,
        name: str,
        email: str | None,
        phone: str | None,
        consent: bool,
        prescreen_result: str | None = None,
    ) -> Stored:
        key = fingerprint(trial, name, email, phone)
        row = Application(
            id=str(uuid.uuid4()),
            trial=trial,
            name=name,
            email=email,
            phone=phone,
            consent=consent,
            prescreen_result=prescreen_result,
            fingerprint=key,
            created_at=datetime.now(UTC),
        )
        self._counts.pop(trial, None)
        try:
            with self.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            existing = self._by_fingerprint(trial, key)
            if existing is None:  # pragma: no cover - the unique key says it exists
                raise
            return Stored(existing.id, trial, as_utc(existing.created_at), duplicate=True)
        self._counts.pop(trial, None)
        return Stored(row.id, trial, row.created_at, duplicate=False)

    def _by_fingerprint(self, trial: str, key: str) -> Application | None:
        with Session(self.engine) as session:
            return session.scalars(
                select(Application).where(Application.trial == trial, Application.fingerprint == key)
            ).first()

    def get(self, application_id: str) -> Application | None:
        with Session(self.engine) as session:
            return session.get(Application, application_id)

    def count(self, trial: str) -> int:
        """Applications to a trial (Core, not ORM, and kept briefly: see the class)."""
        now = time.monotonic()
        kept = self._counts.get(trial)
        if kept is not None and now - kept[1] < self.count_ttl:
            return kept[0]
        with self.engine.connect() as connection:
            value = int(connection.execute(self._count, {"trial": trial}).scalar_one())
        self._counts[trial] = (value, now)
        return value

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.execute(select(Application.trial, func.count()).group_by(Application.trial))
            return {trial: int(n) for trial, n in rows}
