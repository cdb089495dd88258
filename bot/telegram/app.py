"""Build the Bot and Dispatcher (used by `python -m bot` and by tests)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, ErrorEvent
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram import texts
from bot.telegram.conversation import Clock
from bot.telegram.handlers import callbacks, commands, messages, other
from bot.telegram.middlewares import CitizenLanguage, FloodControl, PerChatOrder, TokenBuckets
from bot.telegram.outbox import OutboxDeliverer
from bot.telegram.retry import RetryMiddleware
from core.conversation.relay import Relay
from core.kb.loader import KnowledgeBase
from core.notify.background import Background, DailyTips
from core.settings import Settings

logger = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    """The real clock (tests inject their own)."""
    return dt.datetime.now(dt.UTC)


def build_bot(
    token: str,
    api_base: str | None = None,
    *,
    retries: int = 4,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Bot:
    """A Bot using HTML parse mode whose calls are retried on 429 and network errors."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else None
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    bot.session.middleware(RetryMiddleware(retries, sleep=sleep))
    return bot


def build_dispatcher(
    relay: Relay,
    kb: KnowledgeBase,
    *,
    settings: Settings | None = None,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock = utcnow,
    monotonic: Callable[[], float] | None = None,
    background: bool = True,
) -> Dispatcher:
    """Dispatcher with the routers, flood control, the outbox/tip loop and their dependencies.

    Handlers receive `relay`, `kb`, `sessions`, `settings` and `clock` by parameter name.
    `sessions` defaults to the relay's session factory.
    """
    settings = settings or Settings(_env_file=None)
    sessions = sessions or relay.sessions
    dp = Dispatcher(relay=relay, kb=kb, sessions=sessions, settings=settings, clock=clock)
    buckets = TokenBuckets(settings.telegram_flood_burst, settings.telegram_flood_rate)
    if monotonic is not None:
        buckets.clock = monotonic
    order, flood = PerChatOrder(), FloodControl(buckets)
    language = CitizenLanguage(sessions)
    for observer in (dp.message, dp.edited_message, dp.callback_query):
        observer.outer_middleware(order)
        observer.outer_middleware(language)
    dp.inline_query.outer_middleware(language)
    dp.message.outer_middleware(flood)
    dp.callback_query.outer_middleware(flood)
    dp.include_routers(
        other.build_router(),
        commands.build_router(),
        callbacks.build_router(),
        messages.build_router(),
    )
    dp.errors.register(_on_error)
    dp.startup.register(_publish_commands)
    if background:
        _install_background(dp, kb, sessions, settings, clock)
    return dp


def _install_background(
    dp: Dispatcher,
    kb: KnowledgeBase,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
) -> None:
    """Start the outbox/tip loop with the dispatcher, stop it with the dispatcher."""

    async def on_startup(bot: Bot) -> None:
        loop = Background(
            OutboxDeliverer(bot, sessions, clock, settings.telegram_outbox_max_attempts),
            DailyTips(sessions, kb, clock, settings.daily_tip_time, settings.daily_tip_timezone),
            settings.telegram_outbox_interval_s,
            task_name="tg-outbox",
        )
        dp["background"] = loop
        loop.start()

    async def on_shutdown() -> None:
        loop = dp.workflow_data.pop("background", None)
        if loop is not None:
            await loop.stop()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)


COMMANDS = ("start", "help", "status", "human", "lang", "subscribe", "unsubscribe", "privacy")


async def _publish_commands(bot: Bot) -> None:
    """Show the commands in Telegram's menu; the bot works without it, so failures only log."""
    try:
        await bot.set_my_commands(
            [
                BotCommand(command=name, description=texts.command_description(name))
                for name in COMMANDS
            ]
        )
    except Exception as exc:
        logger.warning(
            "set_commands_failed",
            extra={"event": "set_commands_failed", "error": type(exc).__name__},
        )


async def _on_error(event: ErrorEvent) -> bool:
    """Central handler: log the type only (never the update), tell the citizen politely."""
    logger.error(
        "update_failed",
        exc_info=event.exception,
        extra={"event": "update_failed", "error": type(event.exception).__name__},
    )
    try:
        message, query = event.update.message, event.update.callback_query
        user = message.from_user if message is not None else query.from_user if query else None
        lang = "en" if ((user and user.language_code) or "").lower().startswith("en") else "zh"
        if message is not None and message.chat.type == "private":
            await message.answer(texts.text("unavailable", lang))
        elif query is not None:
            await query.answer(texts.text("unavailable", lang))
    except Exception:
        logger.warning("error_reply_failed", extra={"event": "error_reply_failed"})
    return True
