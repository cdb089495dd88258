"""Build the Bot and Dispatcher (used by `python -m bot` and by tests)."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import ErrorEvent

from bot.handlers import messages
from core.kb.loader import KnowledgeBase
from core.relay import Relay

logger = logging.getLogger(__name__)


def build_bot(token: str, api_base: str | None = None) -> Bot:
    """A Bot using HTML parse mode, optionally against another Bot API server."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else None
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_dispatcher(relay: Relay, kb: KnowledgeBase) -> Dispatcher:
    """Dispatcher with the routers and their dependencies (`relay`, `kb`)."""
    dp = Dispatcher(relay=relay, kb=kb)
    dp.include_routers(messages.build_router())

    @dp.errors()
    async def on_error(event: ErrorEvent) -> bool:
        # Central handler: log the type only (never the update), tell the citizen politely.
        logger.error(
            "update_failed",
            exc_info=event.exception,
            extra={"event": "update_failed", "error": type(event.exception).__name__},
        )
        message = event.update.message
        if message is not None:
            try:
                await message.answer(messages.UNAVAILABLE_ZH)
            except Exception:
                logger.warning("error_reply_failed", extra={"event": "error_reply_failed"})
        return True

    return dp
