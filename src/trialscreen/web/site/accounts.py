"""Users, passwords and sessions (shared by the workspace and `trialscreen users`).

Passwords are argon2id hashes with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane),
re-hashed on login when the parameters change. A session is a random 256-bit token: the browser holds the token, the
database only its SHA-256, so a leaked table lets no one log in. Sessions expire after
`SESSION_IDLE` without use and `SESSION_MAX` after login, whichever comes first.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trialscreen.web.db import as_utc
from trialscreen.web.site.models import ROLES, LoginSession, User, UserTrial

SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=10)
MIN_PASSWORD = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TRIAL = re.compile(r"^NCT\d{8}$")
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this when the user does not exist keeps the timing of "no such user" and
# "wrong password" alike.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """A user that cannot be created or changed; the message names the field."""


@dataclass(frozen=True, slots=True)
class Staff:
    """The logged-in user as the routes see it."""

    id: int
    username: str
    role: str
    trials: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher (tests use a cheap one: argon2 is slow on purpose)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def check_new_user(username: str, role: str, trials: list[str], password: str) -> tuple[str, list[str]]:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError("username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}, not {role[:20]!r}")
    clean = sorted({t.strip().upper() for t in trials if t.strip()})
    bad = [t for t in clean if not TRIAL.match(t)]
    if bad:
        raise AccountError(f"trial: {bad[0][:20]!r} is not an NCT number (NCT and 8 digits)")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    return name, clean


def add_user(engine: Engine, username: str, password: str, role: str, trials: list[str]) -> int:
    """Create a user; AccountError when a field is wrong or the name is taken."""
    name, clean = check_new_user(username, role, trials, password)
    try:
        with Session(engine) as session, session.begin():
            user = User(
                username=name, password_hash=hash_password(password), role=role, active=True, created_at=_now()
            )
            session.add(user)
            session.flush()
            session.add_all(UserTrial(user_id=user.id, trial=t) for t in clean)
            return int(user.id)
    except IntegrityError:
        raise AccountError(f"username: {name!r} is already taken") from None


def set_user(
    engine: Engine, user_id: int, *, role: str | None = None, trials: list[str] | None = None,
    active: bool | None = None, password: str | None = None,
) -> None:
    """Change a user's role, trials, activity or password; deactivating ends their sessions."""
    with Session(engine) as session, session.begin():
        user = session.get(User, user_id)
        if user is None:
            raise AccountError(f"user: no user {user_id}")
        if role is not None:
            if role not in ROLES:
                raise AccountError(f"role: one of {', '.join(ROLES)}")
            user.role = role
        if trials is not None:
            _, clean = check_new_user(user.username, user.role, trials, "x" * MIN_PASSWORD)
            session.execute(delete(UserTrial).where(UserTrial.user_id == user_id))
            session.add_all(UserTrial(user_id=user_id, trial=t) for t in clean)
        if password is not None:
            if len(password) < MIN_PASSWORD:
                raise AccountError(f"password: at least {MIN_PASSWORD} characters")
            user.password_hash = hash_password(password)
        if active is not None:
            user.active = active
        if active is False or password is not None or role is not None:
            session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def _now() -> datetime:
    return datetime.now(UTC)


def _staff(session: Session, user: User) -> Staff:
    trials = session.scalars(select(UserTrial.trial).where(UserTrial.user_id == user.id)).all()
    return Staff(user.id, user.username, user.role, frozenset(trials))


def login(engine: Engine, username: str, password: str) -> tuple[str, Staff] | None:
    """A new session token for the right password of an active user; None otherwise."""
    with Session(engine) as session, session.begin():
        user = session.scalars(select(User).where(User.username == username.strip().lower()[:64])).first()
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        token = secrets.token_urlsafe(32)
        now = _now()
        session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
        session.add(LoginSession(token_hash=token_hash(token), user_id=user.id, created_at=now,
                                 expires_at=now + SESSION_IDLE))
        return token, _staff(session, user)


def resume(engine: Engine, token: str | None) -> Staff | None:
    """The user of a live session (sliding its idle expiry), or None."""
    if not token or len(token) > 100:
        return None
    key = token_hash(token)
    now = _now()
    with Session(engine) as session, session.begin():
        row = session.get(LoginSession, key)
        if row is None:
            return None
        created = as_utc(row.created_at)
        if as_utc(row.expires_at) <= now or created + SESSION_MAX <= now:
            session.delete(row)
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
        # Slide the idle expiry at most once a minute: a write per request is not needed.
        if as_utc(row.expires_at) - now < SESSION_IDLE - timedelta(minutes=1):
            row.expires_at = min(now + SESSION_IDLE, created + SESSION_MAX)
        return _staff(session, user)


def logout(engine: Engine, token: str | None) -> None:
    if token:
        with Session(engine) as session, session.begin():
            session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def list_users(engine: Engine) -> list[tuple[User, list[str]]]:
    with Session(engine, expire_on_commit=False) as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        trials: dict[int, list[str]] = {}
        for link in session.scalars(select(UserTrial).order_by(UserTrial.trial)):
            trials.setdefault(link.user_id, []).append(link.trial)
        return [(u, trials.get(u.id, [])) for u in users]
