"""The audit log: who saw or changed which patient's data, and when.

Only `record` writes to it (an INSERT); nothing in the application updates or deletes it,
and database triggers (migration 0002) refuse UPDATE and DELETE from anyone else.
No patient data goes in: ids, the action and a short detail such as a decision's name.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialscreen.web.site.accounts import Staff
from trialscreen.web.site.models import AuditEvent


def record(
    session: Session,
    staff: Staff | None,
    action: str,
    *,
    trial: str | None = None,
    candidate_id: str | None = None,
    application_id: str | None = None,
    detail: str | None = None,
    username: str | None = None,
) -> None:
    """Add one event to `session`'s transaction (so it commits or fails with the change)."""
    session.add(
        AuditEvent(
            at=datetime.now(UTC),
            user_id=staff.id if staff else None,
            username=(staff.username if staff else username or "anonymous")[:64],
            action=action[:40],
            trial=trial,
            candidate_id=candidate_id,
            application_id=application_id,
            detail=detail[:200] if detail else None,
        )
    )


def read(session: Session, candidate_id: str | None = None, limit: int = 500) -> list[AuditEvent]:
    """The latest events first, optionally of one candidate."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if candidate_id:
        query = query.where(AuditEvent.candidate_id == candidate_id)
    return list(session.scalars(query))
