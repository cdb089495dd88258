"""Private-chat commands: /start /help /status /human /lang /subscribe /unsubscribe /privacy."""

from __future__ import annotations

import logging
from functools import partial

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram import texts
from bot.telegram.conversation import TOLD, Clock, relay_and_reply, sender_of, stored_or_told
from bot.telegram.render import lang_keyboard, main_keyboard
from core.conversation.relay import Relay
from core.kb.loader import KnowledgeBase
from core.notify import tips
from core.notify.preferences import LANGS, set_lang
from core.settings import Settings

logger = logging.getLogger(__name__)


async def on_start(message: Message, lang: str) -> None:
    """Welcome, with the reply keyboard."""
    await message.answer(texts.text("welcome", lang), reply_markup=main_keyboard(lang))


async def on_help(message: Message, lang: str) -> None:
    """What the bot can do."""
    await message.answer(texts.text("help", lang))


async def on_status(message: Message, bot: Bot, relay: Relay, lang: str) -> None:
    """Start the status lookup (the bot then asks for the reference)."""
    await relay_and_reply(bot, message.chat.id, texts.text("btn_status", lang), relay, lang)


async def on_human(message: Message, bot: Bot, relay: Relay, lang: str) -> None:
    """Ask for a staff member."""
    await relay_and_reply(bot, message.chat.id, texts.text("btn_human", lang), relay, lang)


async def on_lang(
    message: Message,
    command: CommandObject,
    bot: Bot,
    sessions: sessionmaker[Session],
    clock: Clock,
    lang: str,
) -> None:
    """`/lang zh|zh-Hant|en` stores the answer language; `/lang` alone offers them."""
    choice = (command.args or "").strip().lower()
    if not choice:
        await message.answer(texts.text("lang_choose", lang), reply_markup=lang_keyboard())
        return
    chosen = next((code for code in LANGS if code.lower() == choice), None)
    if chosen is None:
        await message.answer(texts.text("lang_usage", lang))
        return
    await store_lang(bot, message.chat.id, sessions, clock, chosen, lang)


async def store_lang(
    bot: Bot,
    chat_id: int,
    sessions: sessionmaker[Session],
    clock: Clock,
    chosen: str,
    lang: str,
) -> None:
    """Save the chosen language and confirm in it (shared with the 中文/English buttons)."""
    say = partial(bot.send_message, chat_id)
    sender = sender_of(chat_id)
    done = await stored_or_told(
        logger, "lang_store_failed", say, lang, sessions, set_lang, sender, chosen, clock()
    )
    if done is TOLD:
        return
    await bot.send_message(chat_id, texts.lang_set(chosen))


async def on_subscribe(
    message: Message, sessions: sessionmaker[Session], settings: Settings, lang: str
) -> None:
    """Subscribe to the daily 侨法 tip."""
    sender = sender_of(message.chat.id)
    added = await stored_or_told(
        logger, "subscribe_failed", message.answer, lang, sessions, tips.subscribe, sender
    )
    if added is TOLD:
        return
    if not added:
        await message.answer(texts.text("already_subscribed", lang))
        return
    logger.info("tip_subscribed", extra={"event": "tip_subscribed", "channel": "tg"})
    tz = (
        texts.text("beijing_time", lang)
        if settings.daily_tip_timezone == "Asia/Shanghai"
        else settings.daily_tip_timezone
    )
    at = settings.daily_tip_time.strftime("%H:%M")
    await message.answer(texts.text("subscribed", lang, time=at, tz=tz))


async def on_unsubscribe(
    message: Message, bot: Bot, sessions: sessionmaker[Session], lang: str
) -> None:
    """Delete the daily-tip subscription."""
    await unsubscribe(bot, message.chat.id, sessions, lang)


async def unsubscribe(bot: Bot, chat_id: int, sessions: sessionmaker[Session], lang: str) -> None:
    """Delete the chat's subscription and confirm (also the tip's 取消订阅 button)."""
    say = partial(bot.send_message, chat_id)
    removed = await stored_or_told(
        logger, "unsubscribe_failed", say, lang, sessions, tips.unsubscribe, sender_of(chat_id)
    )
    if removed is TOLD:
        return
    if removed:
        logger.info("tip_unsubscribed", extra={"event": "tip_unsubscribed", "channel": "tg"})
    await bot.send_message(
        chat_id, texts.text("unsubscribed" if removed else "not_subscribed", lang)
    )


async def on_privacy(message: Message, kb: KnowledgeBase, lang: str) -> None:
    """What is stored and for how long."""
    await message.answer(texts.privacy(kb.office, lang))


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
