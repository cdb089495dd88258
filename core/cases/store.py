"""Case queries: cases, their events, subscriptions and verification attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.db.engine import affected_rows
from core.db.models import Case, CaseEvent, Subscription, VerificationAttempt


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
    session: Session,
    reference: str,
    sender_hash: str,
    success: bool,
    now: dt.datetime,
    *,
    client_hash: str | None = None,
    method: str | None = None,
) -> None:
    """Store one verification attempt."""
    session.add(
        VerificationAttempt(
            reference=reference,
            sender_hash=sender_hash,
            client_hash=client_hash,
            method=method,
            success=success,
            created_at=now,
        )
    )
    session.flush()


def last_success(session: Session, sender_hash: str, since: dt.datetime) -> str | None:
    """The reference of the sender's newest successful verification since `since`."""
    return session.scalar(
        select(VerificationAttempt.reference)
        .where(
            VerificationAttempt.sender_hash == sender_hash,
            VerificationAttempt.success.is_(True),
            VerificationAttempt.created_at >= since,
        )
        .order_by(VerificationAttempt.created_at.desc(), VerificationAttempt.id.desc())
        .limit(1)
    )


def find_event(session: Session, event_key: str) -> CaseEvent | None:
    """The event recorded under this idempotency key, if any."""
    return session.scalar(select(CaseEvent).where(CaseEvent.event_key == event_key))


def case_subscribers(session: Session, case: Case) -> list[str]:
    """Sender ids subscribed to the case's changes."""
    return list(
        session.scalars(
            select(Subscription.sender_id).where(
                Subscription.kind == "case", Subscription.case_id == case.id
            )
        ).all()
    )


def add_subscription(session: Session, sender_id: str, case: Case) -> bool:
    """Subscribe the sender to the case; False when already subscribed."""
    exists = session.scalar(
        select(Subscription).where(
            Subscription.sender_id == sender_id,
            Subscription.kind == "case",
            Subscription.case_id == case.id,
        )
    )
    if exists is not None:
        return False
    session.add(Subscription(sender_id=sender_id, kind="case", case_id=case.id))
    session.flush()
    return True


def delete_subscriptions(session: Session, sender_id: str) -> int:
    """Remove every case subscription of the sender; return how many."""
    return affected_rows(
        session,
        delete(Subscription).where(
            Subscription.sender_id == sender_id, Subscription.kind == "case"
        ),
    )


def delete_closed_before(session: Session, cutoff: dt.datetime) -> dict[str, int]:
    """Delete cases closed before `cutoff`, with their events and subscriptions."""
    ids = session.scalars(
        select(Case.id).where(Case.closed_at.is_not(None), Case.closed_at < cutoff)
    ).all()
    if not ids:
        return {"cases": 0, "events": 0}
    events = (
        session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id.in_(ids))
        )
        or 0
    )
    session.execute(delete(Subscription).where(Subscription.case_id.in_(ids)))
    session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(ids)))
    session.execute(delete(Case).where(Case.id.in_(ids)))
    session.flush()
    return {"cases": len(ids), "events": int(events)}


def failures_at_least(
    session: Session, since: dt.datetime, max_failures: int
) -> list[tuple[str, str, int, dt.datetime]]:
    """(kind, subject, failures, oldest) per reference and per sender with enough failures."""
    failed = (VerificationAttempt.success.is_(False), VerificationAttempt.created_at >= since)
    out: list[tuple[str, str, int, dt.datetime]] = []
    for kind, column in (
        ("reference", VerificationAttempt.reference),
        ("sender", VerificationAttempt.sender_hash),
    ):
        rows = session.execute(
            select(column, func.count(), func.min(VerificationAttempt.created_at))
            .where(*failed)
            .group_by(column)
            .having(func.count() >= max_failures)
        ).all()
        out.extend((kind, subject, count, oldest) for subject, count, oldest in rows)
    return out
