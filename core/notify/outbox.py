"""Outbox rows: messages waiting for delivery on a channel, and how a sender id names its channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db.engine import affected_rows
from core.db.models import Outbox


def channel_of(sender_id: str) -> str:
    """Channel from the sender id prefix (`tg:…`, `web:…`, `wx:…`); other senders are `rest`."""
    prefix, sep, _ = sender_id.partition(":")
    return prefix if sep and prefix in {"tg", "web", "wx"} else "rest"


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


def is_queued(session: Session, dedupe_key: str) -> bool:
    """True when a row with this dedupe key exists (sent or not)."""
    return session.scalar(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)) is not None


def delivered(session: Session, sender_id: str) -> list[Outbox]:
    """Rows already delivered to this sender, oldest first."""
    return list(
        session.scalars(
            select(Outbox)
            .where(Outbox.sender_id == sender_id, Outbox.sent_at.is_not(None))
            .order_by(Outbox.id)
        )
    )


def take_pending(
    session: Session, sender_id: str, now: dt.datetime, limit: int = 50
) -> list[Outbox]:
    """Undelivered rows of one sender, marked sent as they are taken.

    Each row is taken with a conditional UPDATE, so two takers never both get it.
    """
    rows = list(
        session.scalars(
            select(Outbox)
            .where(Outbox.sender_id == sender_id, Outbox.sent_at.is_(None))
            .order_by(Outbox.id)
            .limit(limit)
        )
    )
    taken = []
    for row in rows:
        claimed = affected_rows(
            session,
            update(Outbox)
            .where(Outbox.id == row.id, Outbox.sent_at.is_(None))
            .values(sent_at=now, attempts=Outbox.attempts + 1),
        )
        if claimed == 1:
            taken.append(row)
    return taken


def read_after(
    session: Session, sender_id: str, after_id: int, now: dt.datetime, limit: int | None = 50
) -> list[Outbox]:
    """Rows of one sender with an id above `after_id`, oldest first; those not yet delivered
    are marked sent (a reader with its own cursor, such as a widget tab, does not consume a
    row for the other readers)."""
    query = (
        select(Outbox)
        .where(Outbox.sender_id == sender_id, Outbox.id > after_id)
        .order_by(Outbox.id)
    )
    rows = list(session.scalars(query if limit is None else query.limit(limit)))
    fresh = [row.id for row in rows if row.sent_at is None]
    if fresh:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(fresh), Outbox.sent_at.is_(None))
            .values(sent_at=now, attempts=Outbox.attempts + 1)
        )
    return rows
