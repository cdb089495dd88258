"""Outbox rows: messages waiting for delivery on a channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import Outbox


def enqueue(
    session: Session,
    *,
    channel: str,
    sender_id: str,
    kind: str,
    text: str,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    ticket_id: int | None = None,
) -> Outbox:
    """Add a message to deliver; with a dedupe_key, enqueueing twice returns the first row."""
    if dedupe_key is not None:
        existing = session.scalar(select(Outbox).where(Outbox.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    row = Outbox(
        channel=channel,
        sender_id=sender_id,
        kind=kind,
        text=text,
        payload=payload,
        dedupe_key=dedupe_key,
        ticket_id=ticket_id,
    )
    session.add(row)
    session.flush()
    return row


def pending(
    session: Session, channel: str, *, sender_id: str | None = None, limit: int = 100
) -> list[Outbox]:
    """Undelivered rows of a channel (optionally of one sender), oldest first."""
    query = select(Outbox).where(Outbox.channel == channel, Outbox.sent_at.is_(None))
    if sender_id is not None:
        query = query.where(Outbox.sender_id == sender_id)
    return list(session.scalars(query.order_by(Outbox.id).limit(limit)))


def mark_sent(session: Session, row: Outbox, now: dt.datetime) -> None:
    """Record delivery."""
    row.sent_at = now
    session.flush()


def mark_failed(session: Session, row: Outbox, error: str) -> None:
    """Count a failed delivery attempt (the row stays pending)."""
    row.attempts += 1
    row.last_error = error[:200]
    session.flush()
