"""Background delivery for channel 'wx': outbox rows (deferred answers, staff replies, case
notifications, tips) as customer-service messages, the daily tip schedule, and housekeeping.

Delivery guarantee, as on Telegram (core.notify.delivery): a row is claimed (conditional UPDATE,
own transaction), sent, and marked sent right after WeChat accepted it, so a row is never lost
and two processes never send it at the same time; the one duplicate window is a crash between
WeChat's acceptance and the commit.

WeChat only allows customer-service messages within 48 hours of the citizen's last message
(and at most five per message). A row for a citizen outside that window is not sent: it gets
the configured template message (WECHAT_TEMPLATE_ID) telling them to write to the account, or
none, and is marked `wx_window_closed` — visible to staff as undelivered — until the citizen
writes again, which releases it (bot/wechat/store.py). A tip outside the window is dropped
(marked, not released). Unfollowed or invalid users are not retried. When WeChat is
unreachable or rate-limits (45009), the round stops and the loop backs off (up to a minute)
without using up the row's attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.wechat import store, texts
from bot.wechat.client import Transient, UserUnreachable, WeChatClient, WeChatError, WindowClosed
from bot.wechat.conversation import Clock, in_transaction, openid_of
from bot.wechat.handler import REPLY_KIND
from bot.wechat.render import render_outbox
from core.kb.loader import KnowledgeBase
from core.notify import delivery, tips

logger = logging.getLogger(__name__)
MAX_BACKOFF_S = 60.0
SENT, HELD, FAILED = "sent", "held", "failed"  # HELD: the row waits for the citizen
TEMPLATE_KINDS = frozenset({"staff_reply", "notification", "system"})
TEMPLATE_VALUE_CHARS = 20  # "thing" fields of WeChat's new templates hold 20 characters


class TransientFailure(Exception):
    """WeChat could not be reached (or asked to wait); `retry_after` in seconds if given."""

    def __init__(self, retry_after: float | None = None):
        super().__init__("transient delivery failure")
        self.retry_after = retry_after


@dataclass
class OutboxDeliverer:
    """Sends pending 'wx' outbox rows."""

    client: WeChatClient
    sessions: sessionmaker[Session]
    clock: Clock
    max_attempts: int = 10
    template_id: str | None = None
    template_fields: dict[str, str] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    batch: int = 50

    async def deliver_once(self) -> int:
        """Deliver what is pending now; how many rows were sent (TransientFailure: back off)."""
        pending = await in_transaction(
            self.sessions,
            lambda s: delivery.pending_deliveries(
                s, store.CHANNEL, max_attempts=self.max_attempts, limit=self.batch
            ),
        )
        waiting: set[str] = set()
        sent = 0
        for row in pending:
            if row.sender_id in waiting:
                continue  # keep a citizen's order: an earlier row is not delivered yet
            outcome = await self._deliver(row)
            if outcome == SENT:
                sent += 1
            elif outcome == FAILED:
                waiting.add(row.sender_id)
        return sent

    async def _deliver(self, row: delivery.Delivery) -> str:
        openid = openid_of(row.sender_id)
        if openid is None:
            await self._fail(row, "not a WeChat sender", give_up=True)
            return HELD
        if not await in_transaction(self.sessions, delivery.claim, row):
            return FAILED  # another deliverer has it: keep this citizen's order
        if row.kind != REPLY_KIND:  # a deferred answer may use a menu click's own short window
            following = await in_transaction(self.sessions, store.is_following, row.sender_id)
            if not following:
                await self._fail(row, store.UNFOLLOWED, give_up=True, note=texts.NOTE_UNFOLLOWED)
                return HELD
            now = self.clock()
            if not await in_transaction(self.sessions, store.window_open, row.sender_id, now):
                await self._window_closed(row, openid)
                return HELD
        try:
            for part in render_outbox(row.kind, row.text, row.payload):
                await self.client.send_text(openid, part)
        except WindowClosed:
            await self._window_closed(row, openid)
            return HELD
        except UserUnreachable as exc:
            note = texts.NOTE_UNREACHABLE.format(code=exc.errcode)
            await self._fail(row, f"wx_{exc.errcode}", give_up=True, note=note)
            return HELD
        except Transient as exc:
            await self._fail(row, f"wx_transient: {exc}", refund=True)
            raise TransientFailure(exc.retry_after) from exc
        except WeChatError as exc:
            await self._fail(row, f"wx_{exc.errcode}")
            return FAILED
        except Exception as exc:
            await self._fail(row, type(exc).__name__)
            return FAILED
        await in_transaction(self.sessions, delivery.record_sent, row.id, self.clock())
        logger.info(
            "outbox_sent",
            extra={"event": "outbox_sent", "channel": store.CHANNEL, "kind": row.kind},
        )
        return SENT

    async def _window_closed(self, row: delivery.Delivery, openid: str) -> None:
        """Outside the 48-hour window: a template notice if configured, then hold the row."""
        error = store.WINDOW_CLOSED
        if self.template_id and row.kind in TEMPLATE_KINDS:
            try:
                await self.client.send_template(openid, self.template_id, self._template_data(row))
                error = f"{store.WINDOW_CLOSED}; template sent"
            except Transient as exc:
                raise TransientFailure(exc.retry_after) from exc
            except WeChatError as exc:
                error = f"{store.WINDOW_CLOSED}; template failed wx_{exc.errcode}"
        note = texts.NOTE_WINDOW_TEMPLATE if "template sent" in error else texts.NOTE_WINDOW
        await self._fail(row, error, give_up=True, note=note)

    def _template_data(self, row: delivery.Delivery) -> dict[str, str]:
        local = self.clock().astimezone(ZoneInfo(self.timezone))
        values = {
            "title": texts.TEMPLATE_TITLE.get(row.kind, texts.TEMPLATE_TITLE["system"]),
            "summary": " ".join(row.text.split()),
            "hint": texts.TEMPLATE_HINT,
            "time": local.strftime("%Y-%m-%d %H:%M"),
            "ticket": str((row.payload or {}).get("ticket", "")),
        }
        return {
            key: _clip(values.get(source, ""), TEMPLATE_VALUE_CHARS)
            for key, source in self.template_fields.items()
        }

    async def _fail(
        self,
        row: delivery.Delivery,
        error: str,
        *,
        give_up: bool = False,
        refund: bool = False,
        note: str | None = None,
    ) -> None:
        """Record a failed attempt; a row that will not be retried (given up, or out of
        attempts) leaves an internal note on its ticket, so staff see it in the console."""
        logger.warning(
            "outbox_failed",
            extra={
                "event": "outbox_failed",
                "channel": store.CHANNEL,
                "kind": row.kind,
                "error": error,
            },
        )
        if note is None and not refund and row.attempts + 1 >= self.max_attempts:
            note, give_up = texts.NOTE_FAILED.format(error=error), True
        ticket_id = (row.payload or {}).get("ticket")

        def work(session: Session) -> None:
            delivery.record_failure(
                session,
                row.id,
                error,
                give_up_at=self.max_attempts if give_up else None,
                refund=refund,
            )
            if note and isinstance(ticket_id, int):
                store.note_on_ticket(session, ticket_id, note)

        await in_transaction(self.sessions, work)


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


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
    """The WeChat bot's loop: daily tips, outbox delivery, purging old dedupe rows."""

    deliverer: OutboxDeliverer
    tips: DailyTips | None
    interval_s: float = 2.0
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: bool = field(default=False, init=False)
    _failures: int = field(default=0, init=False)
    _purged: dt.date | None = field(default=None, init=False)

    async def run_once(self) -> float:
        """One round; the seconds to wait before the next (longer after failures)."""
        try:
            if self.tips is not None:
                await self.tips.tick()
            await self.deliverer.deliver_once()
            await self._purge()
        except TransientFailure as exc:
            self._failures += 1
            backoff = self.interval_s * 2**self._failures
            return min(max(backoff, exc.retry_after or 0.0), MAX_BACKOFF_S)
        except Exception as exc:  # e.g. the database is down: log once per streak, back off
            self._failures += 1
            log: Any = logger.exception if self._failures == 1 else logger.warning
            log(
                "outbox_round_failed",
                extra={"event": "outbox_round_failed", "error": type(exc).__name__},
            )
            return min(self.interval_s * 2**self._failures, MAX_BACKOFF_S)
        self._failures = 0
        return self.interval_s

    async def _purge(self) -> None:
        now = self.deliverer.clock()
        if self._purged == now.date():
            return
        await in_transaction(self.deliverer.sessions, store.purge_messages, now)
        self._purged = now.date()

    async def _loop(self) -> None:
        while not self._stopping:
            pause = await self.run_once()
            self._wake.clear()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    def wake(self) -> None:
        """Run the next round now (after enqueueing)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="wx-outbox")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop, letting a round in progress finish (a message WeChat accepted is marked sent)."""
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
