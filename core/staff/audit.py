"""The audit log: one row per staff action, never message text or personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.db.models import AuditLog
from core.staff import store


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one staff action (never message text or personal data in `detail`)."""
    session.add(AuditLog(actor=actor, action=action, target=target, detail=detail))
    session.flush()


def recent_audit(session: Session, limit: int = 200) -> list[AuditLog]:
    """Newest audit entries first."""
    return store.recent_audit(session, limit)
