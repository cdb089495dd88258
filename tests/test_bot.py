"""The Telegram bot against a fake Bot API server and a fake Rasa."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_dispatcher
from bot.render import render, split_text
from core.db.engine import session_scope
from core.db.models import HandoffTicket
from core.rasa_client import BotMessage
from core.relay import Relay
from tests.fake_telegram import FakeTelegram, message_update
from tests.fakes import FakeRasa


@pytest.fixture
async def telegram():
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def running_bot(telegram, sessions, kb):
    rasa = FakeRasa()
    bot = build_bot("123456:TEST-TOKEN", telegram.base)
    dp = build_dispatcher(Relay(rasa.client(), sessions), kb)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    yield rasa
    await dp.stop_polling()
    await asyncio.wait_for(task, 10)
    await bot.session.close()


async def test_text_round_trip_renders_sources_and_buttons(telegram, running_bot):
    telegram.push(message_update(42, "附加证明书怎么办理？"))
    sent = await telegram.wait_for("sendMessage")
    assert running_bot.received == [{"sender": "tg:42", "message": "附加证明书怎么办理？"}]
    assert sent[0]["chat_id"] == "42" and sent[0]["parse_mode"] == "HTML"
    assert '<a href="https://cs.mfa.gov.cn/">中国领事服务网</a>' in sent[0]["text"]
    button = sent[0]["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"] == "kb:notarization_first"


async def test_non_text_updates_get_a_polite_reply(telegram, running_bot):
    telegram.push(
        message_update(
            7,
            sticker={
                "file_id": "s",
                "file_unique_id": "u",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        )
    )
    telegram.push(message_update(7, location={"latitude": 1.0, "longitude": 2.0}))
    sent = await telegram.wait_for("sendMessage", count=2)
    assert all("文字" in s["text"] for s in sent)
    assert running_bot.received == []


async def test_button_press_asks_the_entry_question(telegram, running_bot, kb):
    telegram.push(
        {
            "callback_query": {
                "id": "cb1",
                "chat_instance": "x",
                "data": "kb:notarization_first",
                "from": {"id": 5, "is_bot": False, "first_name": "T"},
                "message": {
                    "message_id": 3,
                    "date": 0,
                    "chat": {"id": 5, "type": "private"},
                    "text": "old",
                },
            }
        }
    )
    await telegram.wait_for("sendMessage")
    assert running_bot.received == [
        {"sender": "tg:5", "message": kb.get("notarization_first").title}
    ]
    assert telegram.sent("answerCallbackQuery")


async def test_rasa_down_tells_citizen_and_keeps_message(telegram, running_bot, sessions):
    running_bot.down = True
    telegram.push(message_update(9, "签证怎么办"))
    sent = await telegram.wait_for("sendMessage")
    assert "服务暂时不可用" in sent[0]["text"]
    with session_scope(sessions) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        assert ticket.sender_id == "tg:9" and [m.text for m in ticket.messages] == ["签证怎么办"]


async def test_over_long_message_is_refused_politely(telegram, running_bot):
    telegram.push(message_update(11, "长" * 2500))
    sent = await telegram.wait_for("sendMessage")
    assert "太长" in sent[0]["text"] and running_bot.received == []


def test_render_escapes_html_and_splits_long_answers():
    parts = render(BotMessage(text="<b>x</b> & " + "段落。\n" * 2000, custom={}))
    assert parts[0].text.startswith("&lt;b&gt;x&lt;/b&gt; &amp;")
    assert len(parts) > 1 and all(len(p.text) <= 4096 for p in parts)


def test_split_text_never_cuts_inside_a_tag():
    text = "a" * 4090 + '<a href="https://x.y/">link</a>'
    chunks = split_text(text)
    assert all(c.count("<a ") == c.count("</a>") for c in chunks)
    assert "".join(chunks) == text
