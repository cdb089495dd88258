"""Staff queries: console users, their sessions and failed logins, the audit log, integration
API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import Select, and_, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db.engine import affected_rows
from core.db.models import ApiToken, AuditLog, ConsoleSession, LoginFailure, StaffUser

Row = TypeVarTuple("Row")


def find_user(session: Session, username: str) -> StaffUser | None:
    """The console user with this name (active or not)."""
    return session.scalar(select(StaffUser).where(StaffUser.username == username))


def list_users(session: Session) -> list[StaffUser]:
    """All console users, by name."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def recent_audit(session: Session, limit: int) -> list[AuditLog]:
    """Newest audit entries first."""
    return list(session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page narrows to (all optional)."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def apply(self, query: Select[*Row]) -> Select[*Row]:
        """The query restricted to matching entries."""
        if self.actor:
            query = query.where(AuditLog.actor == self.actor)
        if self.action:
            query = query.where(AuditLog.action == self.action)
        if self.target:
            query = query.where(AuditLog.target.contains(self.target, autoescape=True))
        if self.since:
            query = query.where(AuditLog.created_at >= self.since)
        if self.until:
            query = query.where(AuditLog.created_at < self.until)
        return query


def audit_page(
    session: Session, where: AuditFilter, offset: int, limit: int
) -> tuple[list[AuditLog], int]:
    """One page of matching entries, newest first, and how many match in all."""
    entries = session.scalars(
        where.apply(select(AuditLog)).order_by(AuditLog.id.desc()).offset(offset).limit(limit)
    )
    total = session.scalar(where.apply(select(func.count()).select_from(AuditLog))) or 0
    return list(entries), int(total)


def audit_actions(session: Session) -> list[str]:
    """Every action name in the log (for the filter's choices)."""
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def count_login_failure(session: Session, subject: str, now: dt.datetime) -> int:
    """Add one failed login for `subject` atomically (INSERT … ON CONFLICT … RETURNING, so two
    replicas never both read the same count); the new count. A lock that has ended starts the
    count again."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ended = and_(LoginFailure.locked_until.is_not(None), LoginFailure.locked_until <= now)
    upsert = insert(LoginFailure).values(subject=subject, failures=1, updated_at=now)
    statement = upsert.on_conflict_do_update(
        index_elements=[LoginFailure.subject],
        set_={
            "failures": case((ended, 1), else_=LoginFailure.failures + 1),
            "locked_until": case((ended, None), else_=LoginFailure.locked_until),
            "updated_at": now,
        },
    ).returning(LoginFailure.failures)
    return int(session.execute(statement).scalar_one())


def lock_login(session: Session, subject: str, until: dt.datetime) -> None:
    """Lock logins for `subject` until `until` (the count goes on: failures racing the lock
    are locked out too)."""
    session.execute(
        update(LoginFailure).where(LoginFailure.subject == subject).values(locked_until=until)
    )


def login_locked_until(session: Session, subject: str) -> dt.datetime | None:
    """When the lock on `subject` ends (None: not locked, or never)."""
    return session.scalar(select(LoginFailure.locked_until).where(LoginFailure.subject == subject))


def clear_login_failures(session: Session, subject: str) -> None:
    """Forget failures and lock of `subject` (a successful login, an admin's unlock)."""
    session.execute(
        update(LoginFailure)
        .where(LoginFailure.subject == subject)
        .values(failures=0, locked_until=None)
    )


def revoke_sessions(
    session: Session,
    now: dt.datetime,
    *,
    session_id: str | None = None,
    user_id: int | None = None,
    keep: str | None = None,
) -> int:
    """Mark open console sessions revoked (one, or all of a user but `keep`); how many."""
    statement = update(ConsoleSession).where(ConsoleSession.revoked_at.is_(None))
    if session_id is not None:
        statement = statement.where(ConsoleSession.id == session_id)
    if user_id is not None:
        statement = statement.where(ConsoleSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(ConsoleSession.id != keep)
    revoked = affected_rows(session, statement.values(revoked_at=now))
    session.flush()
    return revoked


def open_session_counts(session: Session, now: dt.datetime) -> dict[int, int]:
    """Open (unrevoked, unexpired) console sessions per user id."""
    rows = session.execute(
        select(ConsoleSession.user_id, func.count())
        .where(ConsoleSession.revoked_at.is_(None), ConsoleSession.expires_at > now)
        .group_by(ConsoleSession.user_id)
    )
    return {int(user_id): int(count) for user_id, count in rows}


def active_admins(session: Session) -> int:
    """How many active admins there are."""
    return int(
        session.scalar(
            select(func.count()).where(StaffUser.role == "admin", StaffUser.active.is_(True))
        )
        or 0
    )


def list_tokens(session: Session) -> list[ApiToken]:
    """Every integration API token (revoked ones too), newest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def find_active_token(session: Session, digest: str) -> ApiToken | None:
    """The token record with this hash, unless revoked."""
    return session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    )
