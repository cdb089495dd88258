"""`python -m bot.telegram`: the Telegram bot (needs TELEGRAM_TOKEN).

TELEGRAM_MODE=polling (default) long-polls Telegram. TELEGRAM_MODE=webhook registers
TELEGRAM_WEBHOOK_URL (the api's /telegram/webhook) with TELEGRAM_WEBHOOK_SECRET and serves the
updates the api forwards on TELEGRAM_WEBHOOK_LISTEN. Both run the outbox/daily-tip loop.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.telegram.app import build_bot, build_dispatcher
from bot.telegram.webhook import build_webhook_app, register_webhook, split_listen
from core.conversation.relay import build_relay
from core.logs import configure_logging, start_refused
from core.services import get_kb, handoff_hours, title_en
from core.settings import Settings, get_settings, require_safe

logger = logging.getLogger("bot")


def config_problems(settings: Settings) -> list[str]:
    """What is missing to start, as operator-readable lines."""
    found = []
    if settings.telegram_token is None:
        found.append("TELEGRAM_TOKEN is not set; Telegram bot disabled")
    if settings.telegram_mode == "webhook":
        if settings.telegram_webhook_secret is None:
            found.append("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
        if not settings.telegram_webhook_url:
            found.append(
                "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL (the api's /telegram/webhook)"
            )
    return found


async def main() -> int:
    """Run until interrupted."""
    settings = get_settings()
    require_safe(settings, "Telegram bot")
    if start_refused(logger, config_problems(settings), "bot_disabled"):
        return 2
    assert settings.telegram_token is not None
    relay = build_relay(settings, handoff_hours=handoff_hours, title_en=title_en)
    bot = build_bot(
        settings.telegram_token.get_secret_value(),
        settings.telegram_api_base,
        retries=settings.telegram_send_retries,
    )
    dp = build_dispatcher(relay, get_kb(), settings=settings)
    try:
        if settings.telegram_mode == "webhook":
            await _serve_webhook(dp, bot, settings)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            await dp.start_polling(bot)
    finally:
        await relay.aclose()
        await bot.session.close()
    return 0


async def _serve_webhook(dp: Dispatcher, bot: Bot, settings: Settings) -> None:
    assert settings.telegram_webhook_secret is not None and settings.telegram_webhook_url
    secret = settings.telegram_webhook_secret.get_secret_value()
    app = build_webhook_app(dp, bot, secret)
    host, port = split_listen(settings.telegram_webhook_listen)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    await register_webhook(bot, dp, settings.telegram_webhook_url, secret)
    logger.info("bot_webhook_ready", extra={"event": "bot_webhook_ready"})
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def cli(argv: list[str] | None = None) -> int:
    """Parse arguments (there are none besides --help: settings come from the environment), run."""
    parser = argparse.ArgumentParser(prog="python -m bot.telegram", description=__doc__)
    parser.parse_args(argv)
    configure_logging("INFO")
    return asyncio.run(main())


if __name__ == "__main__":
    sys.exit(cli())
