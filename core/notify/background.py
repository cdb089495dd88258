"""The background loop of a messaging app's process: queue the daily tips when due, then
deliver the channel's outbox rows, then the channel's own housekeeping (if any), every few
seconds, backing off while the channel or the database is down. The channel supplies the
deliverer (bot/telegram/outbox.py, bot/wechat/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import in_transaction
from core.kb.loader import KnowledgeBase
from core.notify import tips

logger = logging.getLogger(__name__)
MAX_BACKOFF_S = 60.0
Clock = Callable[[], dt.datetime]


class Deliverer(Protocol):
    """Sends a channel's pending outbox rows."""

    async def deliver_once(self) -> int:
        """Deliver what is pending now; how many rows were sent (TransientFailure: back off)."""
        ...


class TransientFailure(Exception):
    """The channel could not be reached (or asked to wait); `retry_after` in seconds if given."""

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
    """A messaging app's background loop: daily tips, outbox delivery, then `housekeeping`
    (e.g. WeChat's daily purge of old dedupe rows), every `interval_s`."""

    deliverer: Deliverer
    tips: DailyTips | None
    interval_s: float = 2.0
    task_name: str = "outbox"
    housekeeping: Callable[[], Awaitable[None]] | None = None
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
            if self.housekeeping is not None:
                await self.housekeeping()
        except TransientFailure as exc:
            self._failures += 1
            return min(max(self._backoff(), exc.retry_after or 0.0), MAX_BACKOFF_S)
        except Exception as exc:  # e.g. the database is down: log once per streak, back off
            self._failures += 1
            if self._failures == 1:
                logger.exception("outbox_round_failed", extra={"event": "outbox_round_failed"})
            else:
                logger.warning(
                    "outbox_round_failed",
                    extra={"event": "outbox_round_failed", "error": type(exc).__name__},
                )
            return min(self._backoff(), MAX_BACKOFF_S)
        self._failures = 0
        return self.interval_s

    def _backoff(self) -> float:
        return float(self.interval_s * 2**self._failures)

    async def _loop(self) -> None:
        while not self._stopping:
            pause = await self.run_once()
            self._wake.clear()
            if not self._stopping:  # stop() during the round: no pause before leaving
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)

    def wake(self) -> None:
        """Run the next round now (tests, or after enqueueing)."""
        self._wake.set()

    def start(self) -> None:
        """Start the loop (dp.startup)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name=self.task_name)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop the loop (dp.shutdown), letting a round in progress finish so a message that
        the channel accepted is also marked sent; cancel only after `grace_s`."""
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
