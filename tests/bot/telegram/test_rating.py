"""Telegram: the 1–5 rating after a closed ticket as inline buttons, stored once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.telegram import texts
from bot.telegram.render import render_outbox
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import HandoffTicket, ServiceRating
from core.handoff import ratings, store
from core.handoff.tickets import request_handoff
from core.texts import t
from tests.fake_telegram import callback_update, start_bot
from tests.fakes import FakeRasa


@pytest.fixture
async def running_bot(telegram, sessions, kb, tg_settings):
    handle = await start_bot(
        telegram, Relay(FakeRasa().client(), sessions), kb, settings=tg_settings
    )
    yield
    await handle.stop()


def closed_ticket(sessions, sender: str) -> int:
    with session_scope(sessions) as session:
        info = request_handoff(session, sender, "citizen_request")
        ticket = session.get(HandoffTicket, info.ticket)
        store.close_ticket(session, ticket, dt.datetime.now(dt.UTC))
        ratings.request_rating(session, ticket)
        return info.ticket


def test_the_rating_question_has_five_buttons():
    [out] = render_outbox(
        "rating_request",
        t("reply.rating_request"),
        {"type": "rating_request", "ticket": 7, "scale": [1, 2, 3, 4, 5]},
    )
    rows = out.keyboard.inline_keyboard
    assert [b.callback_data for row in rows for b in row] == [f"rate:7:{n}" for n in range(1, 6)]
    assert [b.text for row in rows for b in row] == ["1", "2", "3", "4", "5"]
    assert "1–5" in out.text


async def test_a_rating_button_stores_the_score_once(telegram, running_bot, sessions):
    ticket = closed_ticket(sessions, "tg:61")
    markup = {"inline_keyboard": [[{"text": "4", "callback_data": f"rate:{ticket}:4"}]]}
    telegram.push(callback_update(61, f"rate:{ticket}:4", reply_markup=markup))
    await telegram.wait_for("editMessageReplyMarkup")
    assert telegram.sent("answerCallbackQuery")[0]["text"] == t("reply.rating_thanks")
    # Pressing again, or another chat pressing this ticket's button, stores nothing more.
    telegram.push(callback_update(61, f"rate:{ticket}:1"))
    telegram.push(callback_update(62, f"rate:{ticket}:2"))
    answers = await telegram.wait_for("answerCallbackQuery", count=3)
    assert [a["text"] for a in answers[1:]] == [
        texts.text("button_expired"),
        texts.text("button_expired"),
    ]
    with session_scope(sessions) as session:
        rows = session.scalars(select(ServiceRating)).all()
        assert [(r.ticket_id, r.score, r.channel) for r in rows] == [(ticket, 4, "tg")]
