"""Delivery of channel 'tg' outbox rows (staff replies, notifications, tips) in the bot process;
core.notify.background runs it with the daily tip schedule.

Delivery guarantee: each row is claimed (conditional UPDATE, its own transaction), sent, and
marked sent in a new transaction right after Telegram confirmed it. A row is never lost: it
stays pending until marked sent, also across restarts. Two bot processes never send the same
row concurrently. The one duplicate window is a crash or a lost Telegram response between
Telegram accepting the message and the mark-sent commit (milliseconds); the row is then sent
again after the restart — for a staff reply a duplicate is better than a loss. When Telegram
is unreachable or rate-limits the bot, the round stops and the loop backs off (up to a minute)
without using up the row's attempts; other errors count, and a row is tried at most
`max_attempts` times; a chat that blocked the bot or no longer exists is not retried. Rows of
one chat keep their order: after a failure the chat's later rows wait.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram.conversation import Clock, chat_id_of, send_all
from bot.telegram.render import render_outbox
from core.db.engine import in_transaction
from core.notify import delivery
from core.notify.background import TransientFailure

logger = logging.getLogger(__name__)
CHANNEL = "tg"
PERMANENT = (TelegramForbiddenError, TelegramNotFound, TelegramBadRequest)
TRANSIENT = (TelegramRetryAfter, TelegramNetworkError, TelegramServerError)


@dataclass
class OutboxDeliverer:
    """Sends pending 'tg' outbox rows."""

    bot: Bot
    sessions: sessionmaker[Session]
    clock: Clock
    max_attempts: int = 10
    batch: int = 50

    async def deliver_once(self) -> int:
        """Deliver what is pending now; how many rows were sent.

        Raises TransientFailure when Telegram is unreachable or rate-limits the bot even after
        the retries: the round stops, the row keeps its attempt budget, the caller backs off.
        """
        pending = await in_transaction(
            self.sessions,
            lambda s: delivery.pending_deliveries(
                s, CHANNEL, max_attempts=self.max_attempts, limit=self.batch
            ),
        )
        waiting: set[str] = set()
        sent = 0
        for row in pending:
            if row.sender_id in waiting:
                continue  # keep a chat's order: its earlier row is not delivered yet
            if await self._deliver(row):
                sent += 1
            else:
                waiting.add(row.sender_id)
        return sent

    async def _deliver(self, row: delivery.Delivery) -> bool:
        chat_id = chat_id_of(row.sender_id)
        if chat_id is None:
            await self._fail(row, "not a Telegram sender", give_up=True)
            return False
        if not await in_transaction(self.sessions, delivery.claim, row):
            return False  # another deliverer has it
        try:
            await send_all(self.bot, chat_id, render_outbox(row.kind, row.text, row.payload))
        except PERMANENT as exc:  # blocked, chat gone, message refused: retrying cannot help
            await self._fail(row, type(exc).__name__, give_up=True)
            return False
        except TRANSIENT as exc:  # Telegram down or rate-limiting: not the row's fault
            await self._fail(row, type(exc).__name__, refund=True)
            raise TransientFailure(getattr(exc, "retry_after", None)) from exc
        except Exception as exc:  # anything else counts against the row's attempts
            await self._fail(row, type(exc).__name__)
            return False
        await in_transaction(self.sessions, delivery.record_sent, row.id, self.clock())
        logger.info(
            "outbox_sent", extra={"event": "outbox_sent", "channel": CHANNEL, "kind": row.kind}
        )
        return True

    async def _fail(
        self, row: delivery.Delivery, error: str, *, give_up: bool = False, refund: bool = False
    ) -> None:
        logger.warning(
            "outbox_failed",
            extra={"event": "outbox_failed", "channel": CHANNEL, "kind": row.kind, "error": error},
        )
        await in_transaction(
            self.sessions,
            lambda s: delivery.record_failure(
                s,
                row.id,
                error,
                give_up_at=self.max_attempts if give_up else None,
                refund=refund,
            ),
        )
