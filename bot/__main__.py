"""`python -m bot`: long-polling Telegram bot (needs TELEGRAM_TOKEN)."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.app import build_bot, build_dispatcher
from core.db.engine import get_engine, session_factory
from core.logs import configure_logging
from core.rasa_client import RasaClient
from core.relay import Relay
from core.services import get_kb
from core.settings import get_settings

logger = logging.getLogger("bot")


async def main() -> int:
    """Run until interrupted."""
    settings = get_settings()
    if settings.telegram_token is None:
        logger.error(
            "TELEGRAM_TOKEN is not set; Telegram bot disabled", extra={"event": "bot_disabled"}
        )
        return 2
    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    rasa = RasaClient(settings.rasa_url, token=token, timeout_s=settings.rasa_timeout_s)
    relay = Relay(
        rasa, session_factory(get_engine(settings.database_url)), settings.max_message_chars
    )
    bot = build_bot(settings.telegram_token.get_secret_value(), settings.telegram_api_base)
    dp = build_dispatcher(relay, get_kb())
    try:
        await dp.start_polling(bot)
    finally:
        await rasa.aclose()
        await bot.session.close()
    return 0


if __name__ == "__main__":
    configure_logging("INFO")
    sys.exit(asyncio.run(main()))
