"""A Telegram round trip: fake Bot API server → bot → real Rasa → fake Bot API server."""

from __future__ import annotations

import asyncio

import pytest

from bot.telegram.app import build_bot, build_dispatcher
from core.conversation.rasa_client import RasaClient
from core.conversation.relay import Relay
from core.db.engine import build_engine, session_factory
from tests.e2e.conftest import RASA_PORT
from tests.fake_telegram import FakeTelegram, message_update

pytestmark = pytest.mark.e2e


async def test_telegram_round_trip_with_real_rasa(stack, database_url, kb):
    telegram = FakeTelegram()
    await telegram.start()
    rasa = RasaClient(f"http://127.0.0.1:{RASA_PORT}", timeout_s=60)
    bot = build_bot("123456:E2E-TOKEN", telegram.base)
    dp = build_dispatcher(Relay(rasa, session_factory(build_engine(database_url))), kb)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        telegram.push(message_update(4242, "附加证明书怎么办理？"))
        sent = await telegram.wait_for("sendMessage", timeout=60)
        assert "依据：" in sent[0]["text"] and "<a href=" in sent[0]["text"]
        assert "公证" in sent[0]["text"]
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 10)
        await bot.session.close()
        await rasa.aclose()
        await telegram.stop()
