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


AuditFilter = store.AuditFilter
PAGE_SIZE = 50


def search_audit(
    session: Session, where: store.AuditFilter, page: int = 1, per_page: int = PAGE_SIZE
) -> tuple[list[AuditLog], int]:
    """One page (1-based) of matching entries, newest first, and the number of pages."""
    entries, total = store.audit_page(session, where, (max(1, page) - 1) * per_page, per_page)
    return entries, max(1, -(-total // per_page))


def audit_actions(session: Session) -> list[str]:
    """The action names that occur (the filter's choices)."""
    return store.audit_actions(session)
