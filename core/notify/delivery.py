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
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import affected_rows, in_transaction
from core.db.models import Outbox

SENT, HELD, FAILED = "sent", "held", "failed"  # a row's outcome in a round (ChannelDeliverer)
A = TypeVar("A")  # where a channel sends to (a Telegram chat id, a WeChat OpenID)


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


class ChannelDeliverer(ABC, Generic[A]):
    """One delivery round over a channel's pending rows, as every messaging app runs it.

    Rows go oldest first; each is claimed (its own transaction), sent (`send`, the channel's
    part) and marked sent right after the channel accepted it. An outcome of FAILED makes the
    sender's later rows wait for the next round (their order is kept); HELD (the row waits for
    something else, or was given up) lets them go. A sender the channel cannot address is given
    up at once. The subclass (a dataclass) has the fields `sessions`, `clock`, `max_attempts`
    and `batch`.
    """

    channel: ClassVar[str]
    log: ClassVar[logging.Logger]  # the channel's logger: its records keep the channel's name
    unaddressable_error: ClassVar[str]  # the error recorded for a sender of another channel
    unaddressable: ClassVar[str]  # that row's outcome
    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime]
    max_attempts: int
    batch: int

    @abstractmethod
    def address_of(self, sender_id: str) -> A | None:
        """Where the channel sends a sender's rows; None for a sender of another channel."""

    @abstractmethod
    async def send(self, row: Delivery, address: A) -> str:
        """Send a claimed row: SENT, or after recording the failure (`_fail`) HELD or FAILED;
        TransientFailure (core.notify.background) ends the round."""

    async def deliver_once(self) -> int:
        """Deliver what is pending now; how many rows were sent (TransientFailure: back off)."""
        pending = await in_transaction(
            self.sessions,
            lambda s: pending_deliveries(
                s, self.channel, max_attempts=self.max_attempts, limit=self.batch
            ),
        )
        waiting: set[str] = set()
        sent = 0
        for row in pending:
            if row.sender_id in waiting:
                continue  # keep a sender's order: an earlier row is not delivered yet
            outcome = await self._deliver(row)
            if outcome == SENT:
                sent += 1
            elif outcome == FAILED:
                waiting.add(row.sender_id)
        return sent

    async def _deliver(self, row: Delivery) -> str:
        address = self.address_of(row.sender_id)
        if address is None:
            await self._fail(row, self.unaddressable_error, give_up=True)
            return self.unaddressable
        if not await in_transaction(self.sessions, claim, row):
            return FAILED  # another deliverer has it: keep this sender's order
        outcome = await self.send(row, address)
        if outcome == SENT:
            await in_transaction(self.sessions, record_sent, row.id, self.clock())
            self.log.info(
                "outbox_sent",
                extra={"event": "outbox_sent", "channel": self.channel, "kind": row.kind},
            )
        return outcome

    async def _fail(
        self, row: Delivery, error: str, *, give_up: bool = False, refund: bool = False
    ) -> None:
        """Record a failed attempt; `give_up`: never retried; `refund`: not the row's fault."""
        self._log_failure(row, error)
        await in_transaction(self.sessions, self._record_failure, row, error, give_up, refund)

    def _log_failure(self, row: Delivery, error: str) -> None:
        self.log.warning(
            "outbox_failed",
            extra={
                "event": "outbox_failed",
                "channel": self.channel,
                "kind": row.kind,
                "error": error,
            },
        )

    def _record_failure(
        self, session: Session, row: Delivery, error: str, give_up: bool, refund: bool
    ) -> None:
        record_failure(
            session,
            row.id,
            error,
            give_up_at=self.max_attempts if give_up else None,
            refund=refund,
        )
