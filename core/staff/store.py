"""Staff queries: console users, the audit log, integration API tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import ApiToken, AuditLog, StaffUser


def find_user(session: Session, username: str) -> StaffUser | None:
    """The console user with this name (active or not)."""
    return session.scalar(select(StaffUser).where(StaffUser.username == username))


def list_users(session: Session) -> list[StaffUser]:
    """All console users, by name."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def recent_audit(session: Session, limit: int) -> list[AuditLog]:
    """Newest audit entries first."""
    return list(session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))


def find_active_token(session: Session, digest: str) -> ApiToken | None:
    """The token record with this hash, unless revoked."""
    return session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    )
