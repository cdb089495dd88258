"""Delivering outbox rows on a channel: claim, then record the outcome, each in its own
transaction.

Guarantee (documented in bot/telegram/outbox.py too): a row is never lost — it stays pending until a
send succeeded and `record_sent` committed. A claim is a conditional UPDATE on `attempts`, so
two deliverers never send the same row at the same time. The one window for a duplicate is a
crash (or a lost response) after the channel accepted the message and before `record_sent`
committed; then the row is sent again after the restart (at-least-once in that window,
exactly once otherwise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db.engine import affected_rows
from core.db.models import Outbox


@dataclass(frozen=True)
class Delivery:
    """A pending outbox row, detached from its session."""

    id: int
    sender_id: str
    kind: str
    text: str
    payload: dict[str, Any] | None
    attempts: int


def pending_deliveries(
    session: Session, channel: str, *, max_attempts: int, limit: int = 50
) -> list[Delivery]:
    """Unsent rows of the channel that have not exhausted their attempts, oldest first."""
    rows = session.scalars(
        select(Outbox)
        .where(
            Outbox.channel == channel,
            Outbox.sent_at.is_(None),
            Outbox.attempts < max_attempts,
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    return [Delivery(r.id, r.sender_id, r.kind, r.text, r.payload, r.attempts) for r in rows]


def claim(session: Session, delivery: Delivery) -> bool:
    """Take the row for one send attempt; False when another deliverer got there first."""
    claimed = affected_rows(
        session,
        update(Outbox)
        .where(
            Outbox.id == delivery.id,
            Outbox.sent_at.is_(None),
            Outbox.attempts == delivery.attempts,
        )
        .values(attempts=Outbox.attempts + 1),
    )
    return claimed == 1


def record_sent(session: Session, row_id: int, now: dt.datetime) -> None:
    """The channel accepted the message."""
    session.execute(update(Outbox).where(Outbox.id == row_id).values(sent_at=now, last_error=None))


def record_failure(
    session: Session,
    row_id: int,
    error: str,
    *,
    give_up_at: int | None = None,
    refund: bool = False,
) -> None:
    """A failed attempt (the row stays pending). `give_up_at` stops further attempts;
    `refund` gives the claimed attempt back (the channel was down, not the row at fault)."""
    values: dict[str, Any] = {"last_error": error[:200]}
    if give_up_at is not None:
        values["attempts"] = give_up_at
    elif refund:
        values["attempts"] = Outbox.attempts - 1
    session.execute(update(Outbox).where(Outbox.id == row_id).values(**values))
