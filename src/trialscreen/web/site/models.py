"""The workspace's tables, on the public side's metadata so one Alembic history covers both.

Patients' records are kept as the FHIR resources that came in (uploads) or were written
here (Consent, QuestionnaireResponse), one row each, never edited: screening reads them
all back. Reports, decisions and the audit log are append-only histories.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trialscreen.web.db import Base

ROLES = ("admin", "coordinator", "investigator")
DECISIONS = ("enrolled", "screen_failure", "withdrawn")


class User(Base):
    """A member of the site's staff; the password is an argon2 hash."""

    __tablename__ = "site_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserTrial(Base):
    """Which trials a user works on."""

    __tablename__ = "site_user_trials"

    user_id: Mapped[int] = mapped_column(ForeignKey("site_users.id", ondelete="CASCADE"), primary_key=True)
    trial: Mapped[str] = mapped_column(String(16), primary_key=True)


class LoginSession(Base):
    """A server-side session; only the SHA-256 of the cookie's random token is stored."""

    __tablename__ = "site_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("site_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Candidate(Base):
    """A person being screened for a trial: from an application or entered by the site."""

    __tablename__ = "site_candidates"
    __table_args__ = (UniqueConstraint("application_id", name="uq_site_candidates_application"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    trial: Mapped[str] = mapped_column(String(16), index=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"), nullable=True)
    label: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecordResource(Base):
    """One FHIR resource of a candidate's record, as uploaded or as written by the site."""

    __tablename__ = "site_resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("site_candidates.id"), index=True)
    upload: Mapped[int] = mapped_column(Integer)
    """Which upload (1, 2, ...) it came with; 0 for what the site recorded (Consent, attestations)."""
    resource_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("site_users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Screening(Base):
    """One report, kept forever: screening again adds a row."""

    __tablename__ = "site_screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("site_candidates.id"), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(20))
    eligible_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    report: Mapped[str] = mapped_column(Text)
    """The report's JSON, exactly as `trialscreen screen --json` writes it."""
    flags: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of what the site must look at (procedures recorded before consent)."""
    created_by: Mapped[int] = mapped_column(ForeignKey("site_users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Decision(Base):
    """Enrolled, screen failure (with the failed criteria) or withdrawn; the latest counts."""

    __tablename__ = "site_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("site_candidates.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of criterion ids (a screen failure's failed criteria)."""
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("site_screenings.id"), nullable=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("site_users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Who saw or changed which patient's data, and when. Database triggers forbid UPDATE/DELETE."""

    __tablename__ = "site_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    trial: Mapped[str | None] = mapped_column(String(16), nullable=True)
    candidate_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    application_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
