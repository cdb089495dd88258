"""What every channel does with a citizen's message: check, route to staff or to Rasa.

- an open handoff ticket takes the message (the bot stays silent meanwhile);
- otherwise Rasa answers; when Rasa is down the message is parked in a ticket for staff,
  so an accepted message is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from core import replies
from core.db.engine import session_scope
from core.handoff import TicketInfo, park_message, route_to_open_ticket
from core.rasa_client import BotMessage, RasaClient, RasaUnavailable
from core.text import clean_display

logger = logging.getLogger(__name__)

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

    def check(self, text: object) -> str:
        """The cleaned text, or MessageRejected with a polite explanation."""
        if not isinstance(text, str):
            raise MessageRejected("invalid_text", "消息必须是文字。")
        cleaned = clean_display(text)
        if not cleaned:
            raise MessageRejected("empty", "消息不能为空，请输入您的问题。")
        if len(cleaned) > self.max_chars:
            raise MessageRejected(
                "too_long", f"消息太长了（超过 {self.max_chars} 字），请精简后分几次发送。"
            )
        return cleaned

    async def handle(self, sender_id: str, text: object) -> list[BotMessage]:
        """Replies for one citizen message."""
        cleaned = self.check(text)
        try:
            ticket = await asyncio.to_thread(self._route_to_ticket, sender_id, cleaned)
        except Exception:
            logger.exception("ticket_check_failed", extra={"event": "ticket_check_failed"})
            ticket = None  # database trouble: still let the bot answer
        if ticket is not None:
            return [BotMessage(IN_TICKET_ZH.format(ticket=ticket.ticket), ticket.payload())]
        try:
            return await self.rasa.send(sender_id, cleaned)
        except RasaUnavailable as exc:
            logger.warning(
                "rasa_unavailable", extra={"event": "rasa_unavailable", "error": str(exc)}
            )
        try:
            parked = await asyncio.to_thread(self._park, sender_id, cleaned)
        except Exception as exc:
            logger.exception("park_failed", extra={"event": "park_failed"})
            raise ServiceUnavailable from exc
        return [
            BotMessage(replies.UNAVAILABLE_ZH, {"type": "unavailable", "ticket": parked.ticket})
        ]

    def _route_to_ticket(self, sender_id: str, text: str) -> TicketInfo | None:
        with session_scope(self.sessions) as session:
            return route_to_open_ticket(session, sender_id, text)

    def _park(self, sender_id: str, text: str) -> TicketInfo:
        with session_scope(self.sessions) as session:
            return park_message(session, sender_id, text)
