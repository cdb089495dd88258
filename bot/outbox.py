"""Background delivery for channel 'tg': outbox rows (staff replies, notifications, tips) and
the daily tip schedule, in the bot process.

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

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field

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

from bot.conversation import Clock, chat_id_of, send_all
from bot.db import in_transaction
from bot.render import render_outbox
from core import delivery, tips
from core.kb.loader import KnowledgeBase

logger = logging.getLogger(__name__)
CHANNEL = "tg"
PERMANENT = (TelegramForbiddenError, TelegramNotFound, TelegramBadRequest)
TRANSIENT = (TelegramRetryAfter, TelegramNetworkError, TelegramServerError)
MAX_BACKOFF_S = 60.0


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


class TransientFailure(Exception):
    """Telegram could not be reached (or asked to wait); `retry_after` in seconds if given."""

    def __init__(self, retry_after: float | None = None):
        super().__init__("transient delivery failure")
        self.retry_after = retry_after


@dataclass
class DailyTips:
    """Queues the day's tip for subscribers once the configured local time has passed."""

    sessions: sessionmaker[Session]
    kb: KnowledgeBase
    clock: Clock
    at: dt.time = dt.time(9, 0)
    timezone: str = "Asia/Shanghai"
    _done: dt.date | None = field(default=None, init=False)

    async def tick(self) -> int:
        """Queue today's tips if due and not yet done by this process; how many were queued."""
        day = tips.due_day(self.clock(), self.at, self.timezone)
        if day is None or day == self._done:
            return 0
        queued = await in_transaction(self.sessions, tips.enqueue_daily_tips, self.kb, day)
        self._done = day
        logger.info("tips_queued", extra={"event": "tips_queued", "count": queued})
        return queued


@dataclass
class Background:
    """The bot's background loop: daily tips, then outbox delivery, every `interval_s`."""

    deliverer: OutboxDeliverer
    tips: DailyTips | None
    interval_s: float = 2.0
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: bool = field(default=False, init=False)
    _failures: int = field(default=0, init=False)

    async def run_once(self) -> float:
        """One round; the seconds to wait before the next (longer after failures)."""
        try:
            if self.tips is not None:
                await self.tips.tick()
            await self.deliverer.deliver_once()
        except TransientFailure as exc:
            self._failures += 1
            backoff = self.interval_s * 2**self._failures
            return min(max(backoff, exc.retry_after or 0.0), MAX_BACKOFF_S)
        except Exception as exc:  # e.g. the database is down: log once per streak, back off
            self._failures += 1
            if self._failures == 1:
                logger.exception("outbox_round_failed", extra={"event": "outbox_round_failed"})
            else:
                logger.warning(
                    "outbox_round_failed",
                    extra={"event": "outbox_round_failed", "error": type(exc).__name__},
                )
            return min(self.interval_s * 2**self._failures, MAX_BACKOFF_S)
        self._failures = 0
        return self.interval_s

    async def _loop(self) -> None:
        while not self._stopping:
            pause = await self.run_once()
            self._wake.clear()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    def wake(self) -> None:
        """Run the next round now (tests, or after enqueueing)."""
        self._wake.set()

    def start(self) -> None:
        """Start the loop (dp.startup)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="tg-outbox")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop the loop (dp.shutdown), letting a round in progress finish so a message that
        Telegram accepted is also marked sent; cancel only after `grace_s`."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
