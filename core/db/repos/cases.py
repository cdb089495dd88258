"""Cases, their events and verification attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.db.models import Case, CaseEvent, VerificationAttempt


def find_case(session: Session, reference: str) -> Case | None:
    """The case with this (normalised) reference, or None."""
    return session.scalar(select(Case).where(Case.reference == reference))


def add_case(session: Session, case: Case) -> Case:
    """Insert a new case."""
    session.add(case)
    session.flush()
    return case


def add_event(
    session: Session,
    case: Case,
    state: str,
    *,
    event_key: str | None = None,
    note: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> CaseEvent:
    """Record a state change and move the case to that state."""
    event = CaseEvent(case=case, state=state, event_key=event_key, note=note)
    if occurred_at is not None:
        event.occurred_at = occurred_at
    case.state = state
    case.updated_at = event.occurred_at or dt.datetime.now(dt.UTC)
    session.add(event)
    session.flush()
    return event


def record_attempt(
    session: Session, reference: str, sender_hash: str, success: bool, now: dt.datetime
) -> None:
    """Store one verification attempt."""
    session.add(
        VerificationAttempt(
            reference=reference, sender_hash=sender_hash, success=success, created_at=now
        )
    )
    session.flush()


def recent_failures(
    session: Session, reference: str, sender_hash: str, since: dt.datetime
) -> tuple[int, int, dt.datetime | None]:
    """Failures since `since` for the reference and for the sender, and the oldest of them."""
    base = select(VerificationAttempt).where(
        VerificationAttempt.success.is_(False), VerificationAttempt.created_at >= since
    )
    by_ref = (
        session.scalar(
            select(func.count()).select_from(
                base.where(VerificationAttempt.reference == reference).subquery()
            )
        )
        or 0
    )
    by_sender = (
        session.scalar(
            select(func.count()).select_from(
                base.where(VerificationAttempt.sender_hash == sender_hash).subquery()
            )
        )
        or 0
    )
    oldest = session.scalar(
        select(func.min(VerificationAttempt.created_at)).where(
            VerificationAttempt.success.is_(False),
            VerificationAttempt.created_at >= since,
            or_(
                VerificationAttempt.reference == reference,
                VerificationAttempt.sender_hash == sender_hash,
            ),
        )
    )
    return by_ref, by_sender, oldest
