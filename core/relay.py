"""What every channel does with a citizen's message: check, route to staff or to Rasa.

- an open handoff ticket takes the message (the bot stays silent meanwhile);
- otherwise Rasa answers; when Rasa is down the message is parked in a ticket for staff,
  so an accepted message is never lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core import metrics, replies
from core.analytics import record_turn
from core.db.engine import session_scope
from core.handoff import TicketInfo, channel_of, park_message, route_to_open_ticket
from core.office_hours import OfficeHours
from core.rasa_client import BotMessage, RasaClient, RasaUnavailable
from core.text import clean_display, normalize

logger = logging.getLogger(__name__)

FRACTION_SLASH = "\u2044"
LEADING_SLASHES_RE = re.compile(r"^[/／]+")
IN_TICKET_ZH = "您的消息已转给工作人员（工单号 #{ticket}），请耐心等待回复。"


class MessageRejected(Exception):
    """The message cannot be accepted; `code` is stable, `message` is for the citizen."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message


class ServiceUnavailable(Exception):
    """Neither the bot nor the database could take the message; it was NOT accepted."""


@dataclass
class Relay:
    rasa: RasaClient
    sessions: sessionmaker[Session]
    max_chars: int = 2000
    hours: OfficeHours | None = None  # when set, queued handoffs outside hours get a notice
    turn_salt: str | None = None  # when set, each turn's reply kind is stored for analytics

    def check(self, text: object) -> str:
        """The cleaned text, or MessageRejected with a polite explanation."""
        if not isinstance(text, str):
            raise MessageRejected("invalid_text", "消息必须是文字。")
        # Lone surrogates (JSON escapes like "\ud800") cannot be encoded as UTF-8: dropped.
        cleaned = clean_display(text).encode("utf-8", "ignore").decode("utf-8")
        if not cleaned:
            raise MessageRejected("empty", "消息不能为空，请输入您的问题。")
        if len(cleaned) > self.max_chars:
            raise MessageRejected(
                "too_long", f"消息太长了（超过 {self.max_chars} 字），请精简后分几次发送。"
            )
        if normalize(cleaned).startswith("/"):
            # Rasa reads "/intent{...}" as a ready-made intent: citizens must not inject those.
            # Its normaliser (NFKC) turns "／" back into "/", so leading slashes become the
            # look-alike FRACTION SLASH, which normalisation leaves alone.
            cleaned = LEADING_SLASHES_RE.sub(lambda m: FRACTION_SLASH * len(m.group()), cleaned)
            if normalize(cleaned).startswith("/"):
                cleaned = FRACTION_SLASH + cleaned
        return cleaned

    async def handle(
        self, sender_id: str, text: object, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Replies for one citizen message; `metadata` (e.g. {"lang": "en"}) goes to Rasa."""
        cleaned = self.check(text)
        try:
            ticket = await asyncio.to_thread(self._route_to_ticket, sender_id, cleaned)
        except Exception:
            logger.exception("ticket_check_failed", extra={"event": "ticket_check_failed"})
            ticket = None  # database trouble: still let the bot answer
        channel = channel_of(sender_id)
        if ticket is not None:
            metrics.observe_turn(channel, ["in_ticket"], "to_staff")
            await self._record(sender_id, [{"type": "in_ticket"}])
            return self._with_hours_notice(
                [BotMessage(IN_TICKET_ZH.format(ticket=ticket.ticket), ticket.payload())]
            )
        started = time.perf_counter()
        try:
            answer = await self.rasa.send(sender_id, cleaned, metadata=metadata)
            metrics.RASA_LATENCY.observe(time.perf_counter() - started)
        except RasaUnavailable as exc:
            logger.warning(
                "rasa_unavailable", extra={"event": "rasa_unavailable", "error": str(exc)}
            )
        else:
            if any(m.custom for m in answer):
                metrics.observe_turn(
                    channel, [str(m.custom.get("type")) for m in answer if m.custom]
                )
                await self._record(sender_id, [m.custom for m in answer if m.custom])
                return self._with_hours_notice(answer)
            # Every turn of this assistant ends with a payload; none means Rasa could not run
            # its action (action server down, action error): the citizen would get silence.
            logger.warning("rasa_no_reply", extra={"event": "rasa_no_reply"})
        try:
            parked = await asyncio.to_thread(self._park, sender_id, cleaned)
        except Exception as exc:
            logger.exception("park_failed", extra={"event": "park_failed"})
            metrics.observe_turn(channel, [], "refused")
            raise ServiceUnavailable from exc
        metrics.observe_turn(channel, ["unavailable"], "parked")
        return [
            BotMessage(replies.UNAVAILABLE_ZH, {"type": "unavailable", "ticket": parked.ticket})
        ]

    async def _record(self, sender_id: str, payloads: list[dict[str, Any]]) -> None:
        """Store the turn's reply kind for analytics; never fails the turn."""
        if self.turn_salt is None:
            return
        salt = self.turn_salt

        def work() -> None:
            with session_scope(self.sessions) as session:
                record_turn(session, salt, sender_id, channel_of(sender_id), payloads)

        try:
            await asyncio.to_thread(work)
        except Exception:
            logger.exception("turn_record_failed", extra={"event": "turn_record_failed"})

    def _with_hours_notice(self, messages: list[BotMessage]) -> list[BotMessage]:
        """Add when staff will answer, if a queued handoff is among the replies after hours."""
        if self.hours is None:
            return messages
        queued = any(
            m.custom.get("type") in ("handoff", "emergency")
            and m.custom.get("state", "queued") == "queued"
            for m in messages
        )
        now = dt.datetime.now(dt.UTC)
        if not queued or self.hours.is_open(now):
            return messages
        notice = BotMessage(
            self.hours.closed_notice(now),
            {"type": "office_hours", "next_open": self.hours.next_open(now).isoformat()},
        )
        return [*messages, notice]

    def _route_to_ticket(self, sender_id: str, text: str) -> TicketInfo | None:
        with session_scope(self.sessions) as session:
            return route_to_open_ticket(session, sender_id, text)

    def _park(self, sender_id: str, text: str) -> TicketInfo:
        with session_scope(self.sessions) as session:
            return park_message(session, sender_id, text)
