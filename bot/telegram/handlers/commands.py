"""Private-chat commands: /start /help /status /human /lang /subscribe /unsubscribe /privacy."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram import texts
from bot.telegram.conversation import Clock, relay_and_reply, sender_of
from bot.telegram.render import lang_keyboard, main_keyboard
from core.conversation.relay import Relay
from core.db.engine import in_transaction
from core.kb.loader import KnowledgeBase
from core.notify import tips
from core.notify.preferences import LANGS, set_lang
from core.settings import Settings
from core.texts import t

logger = logging.getLogger(__name__)


async def on_start(message: Message) -> None:
    """Welcome, with the reply keyboard."""
    await message.answer(texts.WELCOME, reply_markup=main_keyboard())


async def on_help(message: Message) -> None:
    """What the bot can do."""
    await message.answer(texts.HELP)


async def on_status(
    message: Message, bot: Bot, relay: Relay, sessions: sessionmaker[Session]
) -> None:
    """Start the status lookup (the bot then asks for the reference)."""
    await relay_and_reply(bot, message.chat.id, texts.BTN_STATUS, relay, sessions)


async def on_human(
    message: Message, bot: Bot, relay: Relay, sessions: sessionmaker[Session]
) -> None:
    """Ask for a staff member."""
    await relay_and_reply(bot, message.chat.id, texts.BTN_HUMAN, relay, sessions)


async def on_lang(
    message: Message,
    command: CommandObject,
    bot: Bot,
    sessions: sessionmaker[Session],
    clock: Clock,
) -> None:
    """`/lang zh|en` stores the answer language; `/lang` alone offers both."""
    choice = (command.args or "").strip().lower()
    if not choice:
        await message.answer(texts.LANG_CHOOSE, reply_markup=lang_keyboard())
        return
    if choice not in LANGS:
        await message.answer(texts.LANG_USAGE)
        return
    await store_lang(bot, message.chat.id, sessions, clock, choice)


async def store_lang(
    bot: Bot, chat_id: int, sessions: sessionmaker[Session], clock: Clock, lang: str
) -> None:
    """Save the language and confirm (shared with the 中文/English buttons)."""
    try:
        await in_transaction(sessions, set_lang, sender_of(chat_id), lang, clock())
    except Exception:
        logger.exception("lang_store_failed", extra={"event": "lang_store_failed"})
        await bot.send_message(chat_id, texts.DB_TROUBLE)
        return
    await bot.send_message(chat_id, texts.LANG_SET[lang])


async def on_subscribe(
    message: Message, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Subscribe to the daily 侨法 tip."""
    try:
        added = await in_transaction(sessions, tips.subscribe, sender_of(message.chat.id))
    except Exception:
        logger.exception("subscribe_failed", extra={"event": "subscribe_failed"})
        await message.answer(texts.DB_TROUBLE)
        return
    if not added:
        await message.answer(texts.ALREADY_SUBSCRIBED)
        return
    logger.info("tip_subscribed", extra={"event": "tip_subscribed", "channel": "tg"})
    tz = (
        t("telegram.beijing_time")
        if settings.daily_tip_timezone == "Asia/Shanghai"
        else settings.daily_tip_timezone
    )
    await message.answer(
        texts.SUBSCRIBED.format(time=settings.daily_tip_time.strftime("%H:%M"), tz=tz)
    )


async def on_unsubscribe(message: Message, bot: Bot, sessions: sessionmaker[Session]) -> None:
    """Delete the daily-tip subscription."""
    await unsubscribe(bot, message.chat.id, sessions)


async def unsubscribe(bot: Bot, chat_id: int, sessions: sessionmaker[Session]) -> None:
    """Delete the chat's subscription and confirm (also the tip's 取消订阅 button)."""
    try:
        removed = await in_transaction(sessions, tips.unsubscribe, sender_of(chat_id))
    except Exception:
        logger.exception("unsubscribe_failed", extra={"event": "unsubscribe_failed"})
        await bot.send_message(chat_id, texts.DB_TROUBLE)
        return
    if removed:
        logger.info("tip_unsubscribed", extra={"event": "tip_unsubscribed", "channel": "tg"})
    await bot.send_message(chat_id, texts.UNSUBSCRIBED if removed else texts.NOT_SUBSCRIBED)


async def on_privacy(message: Message, kb: KnowledgeBase) -> None:
    """What is stored and for how long."""
    await message.answer(texts.privacy(kb.office))


def build_router() -> Router:
    """Commands in private chats (groups are handled by the `groups` router)."""
    router = Router(name="commands")
    router.message.filter(F.chat.type == "private")
    router.message.register(on_start, CommandStart())
    router.message.register(on_help, Command("help"))
    router.message.register(on_status, Command("status"))
    router.message.register(on_human, Command("human"))
    router.message.register(on_lang, Command("lang"))
    router.message.register(on_subscribe, Command("subscribe"))
    router.message.register(on_unsubscribe, Command("unsubscribe"))
    router.message.register(on_privacy, Command("privacy"))
    return router
