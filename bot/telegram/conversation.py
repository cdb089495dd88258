"""What the handlers share: sender ids, the citizen's language, relaying and sending."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any, Literal, TypeVar

from aiogram import Bot
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram import texts
from bot.telegram.render import Outgoing, render
from core.conversation.relay import MessageRejected, Relay, ServiceUnavailable
from core.db.engine import in_transaction

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
PREFIX = "tg:"
T = TypeVar("T")


class Stored(enum.Enum):
    """`TOLD`: the database failed; the citizen was told (db_trouble)."""

    TOLD = "told"


TOLD = Stored.TOLD


async def stored_or_told(
    log: logging.Logger,
    event: str,
    say: Callable[[str], Awaitable[object]],
    lang: str,
    sessions: sessionmaker[Session],
    fn: Callable[..., T],
    *args: Any,
) -> T | Literal[Stored.TOLD]:
    """`fn(session, *args)` in one transaction, for a citizen's button or command; when the
    database fails: `event` logged on `log` (with the traceback), db_trouble said, TOLD."""
    try:
        return await in_transaction(sessions, fn, *args)
    except Exception:
        log.exception(event, extra={"event": event})
        await say(texts.text("db_trouble", lang))
        return TOLD


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


async def relay_and_reply(bot: Bot, chat_id: int, text: str, relay: Relay, lang: str) -> None:
    """Relay a citizen message (to staff or Rasa) and send the rendered replies; `lang` is the
    conversation's language so far (middlewares.CitizenLanguage)."""
    sender = sender_of(chat_id)
    try:
        replies = await relay.handle(
            sender, text, metadata={"lang": lang} if lang != "zh" else None
        )
    except MessageRejected as rejected:
        await bot.send_message(chat_id, escape(rejected.message))
        return
    except ServiceUnavailable:
        await bot.send_message(chat_id, texts.text("unavailable", lang))
        return
    for reply in replies:
        await send_all(bot, chat_id, render(reply))
