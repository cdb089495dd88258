"""Console sessions, kept server-side (table console_sessions) with idle and absolute expiry,
and CSRF tokens.

The cookie carries a random 256-bit token; the table keeps only its SHA-256, so a database
reader cannot log in with it. A session ends at its absolute expiry, after the idle timeout
without *activity*, or when it is revoked: logout, a password change or reset, deactivation,
and an admin's "sign out everywhere". Automatic requests (the pages' live fragments) are not
activity, so a console left open on the queue still times out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.db.models import ConsoleSession
from core.db.utc import aware
from core.staff import store


@dataclass(frozen=True)
class ActiveSession:
    """A valid session: its id (the token's hash), its user and its CSRF token."""

    id: str
    user_id: int
    csrf: str


def new_csrf() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(24)


def token_id(token: str) -> str:
    """The stored id of a cookie token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    session: Session, user_id: int, now: dt.datetime, max_s: int
) -> tuple[str, ActiveSession]:
    """Start a session; (cookie token, session)."""
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        id=token_id(token),
        user_id=user_id,
        csrf=new_csrf(),
        created_at=now,
        last_active_at=now,
        expires_at=now + dt.timedelta(seconds=max_s),
    )
    session.add(row)
    session.flush()
    return token, ActiveSession(row.id, user_id, row.csrf)


def resume(
    session: Session, token: str | None, now: dt.datetime, idle_s: int, *, activity: bool
) -> ActiveSession | None:
    """The session of this cookie token if it is still valid; `activity` renews its idle time."""
    if not token or len(token) > 128:
        return None
    row = session.get(ConsoleSession, token_id(token))
    if row is None or not hmac.compare_digest(row.id, token_id(token)):
        return None
    if (
        row.revoked_at is not None
        or aware(row.expires_at) <= now
        or aware(row.last_active_at) + dt.timedelta(seconds=idle_s) <= now
    ):
        return None
    if activity:
        row.last_active_at = now
        session.flush()
    return ActiveSession(row.id, row.user_id, row.csrf)


def revoke(session: Session, session_id: str, now: dt.datetime) -> None:
    """End one session (logout)."""
    store.revoke_sessions(session, now, session_id=session_id)


def revoke_all(session: Session, user_id: int, now: dt.datetime, keep: str | None = None) -> int:
    """End every session of a user (but `keep`); how many were open."""
    return store.revoke_sessions(session, now, user_id=user_id, keep=keep)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens; False when either is missing."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
