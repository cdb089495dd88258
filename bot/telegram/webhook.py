"""Webhook mode: the bot's private aiohttp endpoint that the api forwards Telegram updates to.

Telegram → api `POST /telegram/webhook` (public; checks X-Telegram-Bot-Api-Secret-Token) →
this endpoint on TELEGRAM_WEBHOOK_LISTEN (localhost; checks the same secret again) → the
dispatcher. The api and the bot never import each other.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

WEBHOOK_PATH = "/telegram/webhook"


def build_webhook_app(dp: Dispatcher, bot: Bot, secret: str) -> web.Application:
    """aiohttp app feeding updates to the dispatcher; runs dp.startup/shutdown with it."""
    app = web.Application(client_max_size=1024 * 1024)
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, WEBHOOK_PATH)
    setup_application(app, dp, bot=bot)
    return app


async def register_webhook(bot: Bot, dp: Dispatcher, url: str, secret: str) -> None:
    """Tell Telegram where to post updates, with the secret it must send back."""
    await bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=dp.resolve_used_update_types(),
        drop_pending_updates=False,
    )


def split_listen(listen: str) -> tuple[str, int]:
    """`host:port` → (host, port)."""
    host, _, port = listen.rpartition(":")
    return host or "127.0.0.1", int(port)
