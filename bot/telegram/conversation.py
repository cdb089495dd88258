"""What the handlers share: sender ids, the citizen's language, relaying and sending."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from html import escape

from aiogram import Bot
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram import texts
from bot.telegram.render import Outgoing, render
from core.conversation.relay import MessageRejected, Relay, ServiceUnavailable
from core.db.engine import in_transaction
from core.notify.preferences import get_lang

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
PREFIX = "tg:"


def sender_of(chat_id: int) -> str:
    """Channel-prefixed sender id so trackers never collide with the widget's."""
    return f"{PREFIX}{chat_id}"


def chat_id_of(sender_id: str) -> int | None:
    """The Telegram chat id of a `tg:<chat_id>` sender, or None for other senders."""
    if not sender_id.startswith(PREFIX):
        return None
    try:
        return int(sender_id[len(PREFIX) :])
    except ValueError:
        return None


async def send_all(bot: Bot, chat_id: int, outgoing: list[Outgoing]) -> None:
    """Send rendered parts in order."""
    for item in outgoing:
        await bot.send_message(chat_id, item.text, reply_markup=item.keyboard)


async def language(sessions: sessionmaker[Session], sender_id: str) -> str:
    """The citizen's answer language; Chinese when the database cannot tell."""
    try:
        return await in_transaction(sessions, get_lang, sender_id)
    except Exception:
        logger.warning("lang_lookup_failed", extra={"event": "lang_lookup_failed"})
        return "zh"


async def relay_and_reply(
    bot: Bot, chat_id: int, text: str, relay: Relay, sessions: sessionmaker[Session]
) -> None:
    """Relay a citizen message (to staff or Rasa) and send the rendered replies."""
    sender = sender_of(chat_id)
    lang = await language(sessions, sender)
    try:
        replies = await relay.handle(
            sender, text, metadata={"lang": lang} if lang != "zh" else None
        )
    except MessageRejected as rejected:
        await bot.send_message(chat_id, escape(rejected.message))
        return
    except ServiceUnavailable:
        await bot.send_message(chat_id, texts.UNAVAILABLE)
        return
    for reply in replies:
        await send_all(bot, chat_id, render(reply))
