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

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.wechat import notes, store, texts
from bot.wechat.client import Transient, UserUnreachable, WeChatClient, WeChatError, WindowClosed
from bot.wechat.conversation import Clock, in_transaction, openid_of
from bot.wechat.handler import REPLY_KIND
from bot.wechat.render import render_outbox
from core.notify import delivery
from core.notify.background import Background, DailyTips, TransientFailure
from core.notify.delivery import FAILED, HELD, SENT
from core.notify.preferences import get_lang

logger = logging.getLogger(__name__)
TEMPLATE_KINDS = frozenset({"staff_reply", "notification", "system"})
TEMPLATE_VALUE_CHARS = 20  # "thing" fields of WeChat's new templates hold 20 characters


@dataclass
class OutboxDeliverer(delivery.ChannelDeliverer[str]):
    """Sends pending 'wx' outbox rows."""

    channel: ClassVar[str] = store.CHANNEL
    log: ClassVar[logging.Logger] = logger
    unaddressable_error: ClassVar[str] = "not a WeChat sender"
    unaddressable: ClassVar[str] = HELD
    client: WeChatClient
    sessions: sessionmaker[Session]
    clock: Clock
    max_attempts: int = 10
    template_id: str | None = None
    template_fields: dict[str, str] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    batch: int = 50

    def address_of(self, sender_id: str) -> str | None:
        return openid_of(sender_id)

    async def send(self, row: delivery.Delivery, address: str) -> str:
        if row.kind != REPLY_KIND:  # a deferred answer may use a menu click's own short window
            following = await in_transaction(self.sessions, store.is_following, row.sender_id)
            if not following:
                await self._fail(row, store.UNFOLLOWED, give_up=True, note=notes.UNFOLLOWED)
                return HELD
            now = self.clock()
            if not await in_transaction(self.sessions, store.window_open, row.sender_id, now):
                await self._window_closed(row, address)
                return HELD
        try:
            for part in render_outbox(row.kind, row.text, row.payload):
                await self.client.send_text(address, part)
        except WindowClosed:
            await self._window_closed(row, address)
            return HELD
        except UserUnreachable as exc:
            note = notes.UNREACHABLE.format(code=exc.errcode)
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
        return SENT

    async def _window_closed(self, row: delivery.Delivery, openid: str) -> None:
        """Outside the 48-hour window: a template notice if configured, then hold the row."""
        error = store.WINDOW_CLOSED
        if self.template_id and row.kind in TEMPLATE_KINDS:
            try:
                data = self._template_data(row, await self._lang(row.sender_id))
                await self.client.send_template(openid, self.template_id, data)
                error = f"{store.WINDOW_CLOSED}; template sent"
            except Transient as exc:
                raise TransientFailure(exc.retry_after) from exc
            except WeChatError as exc:
                error = f"{store.WINDOW_CLOSED}; template failed wx_{exc.errcode}"
        note = notes.WINDOW_TEMPLATE if "template sent" in error else notes.WINDOW
        await self._fail(row, error, give_up=True, note=note)

    async def _lang(self, sender_id: str) -> str:
        """The citizen's answer language for a template notice (Chinese when unknown)."""
        try:
            return await in_transaction(self.sessions, get_lang, sender_id)
        except Exception:  # the notice matters more than its language
            logger.warning("lang_lookup_failed", extra={"event": "lang_lookup_failed"})
            return "zh"

    def _template_data(self, row: delivery.Delivery, lang: str) -> dict[str, str]:
        local = self.clock().astimezone(ZoneInfo(self.timezone))
        values = {
            "title": texts.template_title(row.kind, lang),
            "summary": " ".join(row.text.split()),
            "hint": texts.text("template_hint", lang),
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
        self._log_failure(row, error)
        if note is None and not refund and row.attempts + 1 >= self.max_attempts:
            note, give_up = notes.FAILED.format(error=error), True
        ticket_id = (row.payload or {}).get("ticket")

        def work(session: Session) -> None:
            self._record_failure(session, row, error, give_up, refund)
            if note and isinstance(ticket_id, int):
                store.note_on_ticket(session, ticket_id, note)

        await in_transaction(self.sessions, work)


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class DailyPurge:
    """WeChat's housekeeping in the background loop: forget old dedupe rows once a day."""

    sessions: sessionmaker[Session]
    clock: Clock
    _purged: dt.date | None = field(default=None, init=False)

    async def __call__(self) -> None:
        now = self.clock()
        if self._purged == now.date():
            return
        await in_transaction(self.sessions, store.purge_messages, now)
        self._purged = now.date()


def build_background(
    deliverer: OutboxDeliverer, tips: DailyTips | None, interval_s: float
) -> Background:
    """The WeChat bot's loop (core.notify.background): daily tips, delivery, the daily purge."""
    return Background(
        deliverer,
        tips,
        interval_s,
        task_name="wx-outbox",
        housekeeping=DailyPurge(deliverer.sessions, deliverer.clock),
    )
