"""Analytics: turns recorded by the relay, the summary, and the SVG charts page."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from core.conversation import analytics
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import BotTurn, Feedback, UnansweredQuestion
from core.handoff.tickets import request_handoff
from tests.api.console_helpers import RasaWithApi, add_user, login
from tests.factories import widget_session

UTC = dt.UTC


@pytest.mark.parametrize(
    "types, expected",
    [
        (["kb_answer"], "kb_answer"),
        (["emergency", "handoff"], "emergency"),
        (["fallback"], "fallback"),
        (["greeting"], "greeting"),
        ([], "other"),
    ],
)
def test_turn_type_prefers_the_most_significant_payload(types, expected):
    assert analytics.turn_type(types) == expected


def test_relay_records_reply_kinds_without_text(sessions):
    rasa = RasaWithApi()
    relay = Relay(rasa.client(), sessions, turn_salt="salt")
    asyncio.run(relay.handle("web:abcdefgh1", "附加证明书怎么办理"))
    with session_scope(sessions) as session:
        request_handoff(session, "web:abcdefgh1", "citizen_request")
    asyncio.run(relay.handle("web:abcdefgh1", "人工在吗"))
    with session_scope(sessions) as session:
        turns = session.scalars(select(BotTurn).order_by(BotTurn.id)).all()
        assert [(t.channel, t.reply_type, t.kb_id, t.topic) for t in turns] == [
            ("web", "kb_answer", "apostille_how_to_apply", "apostille"),
            ("web", "in_ticket", None, None),
        ]
        assert "abcdefgh1" not in turns[0].sender_hash


def test_summary_counts_conversations_rates_topics_unanswered_and_satisfaction(sessions):
    now = dt.datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    yesterday = now - dt.timedelta(days=1)
    with session_scope(sessions) as session:
        for sender, kind, topic, at in [
            ("a", "kb_answer", "apostille", now),
            ("a", "kb_answer", "apostille", now),
            ("b", "fallback", None, now),
            ("c", "out_of_scope", None, yesterday),
            ("c", "handoff", None, yesterday),
        ]:
            session.add(
                BotTurn(
                    channel="web", sender_hash=sender, reply_type=kind, topic=topic, created_at=at
                )
            )
        session.add(UnansweredQuestion(kind="fallback", text="天气怎么样", created_at=now))
        session.add(UnansweredQuestion(kind="fallback", text="天气怎么样", created_at=now))
        session.add(Feedback(kb_id="apostille_how_to_apply", helpful=True, created_at=now))
        session.add(Feedback(kb_id="apostille_how_to_apply", helpful=True, created_at=now))
        session.add(Feedback(kb_id="apostille_how_to_apply", helpful=False, created_at=now))
    from zoneinfo import ZoneInfo

    with session_scope(sessions) as session:
        data = analytics.summary(session, now, ZoneInfo("Asia/Shanghai"), days=7)
    assert data.conversations[-2:] == [1, 2]
    assert data.turns == 5
    rates = {label: count for label, count, _ in data.rates}
    assert rates["已解答"] == 2 and rates["未理解"] == 1 and rates["超出范围"] == 1
    assert rates["转人工"] == 1
    assert data.topics == [("apostille", 2)]
    assert data.unanswered == [("天气怎么样", 2)]
    assert round(data.satisfaction, 2) == 0.67


def test_analytics_page_draws_svg_charts(settings, sessions):
    rasa = RasaWithApi()
    relay = Relay(rasa.client(), sessions, turn_salt="salt")
    add_user(sessions, "agent1", "agent")
    with session_scope(sessions) as session:
        session.add(UnansweredQuestion(kind="fallback", text="<script>x</script>"))
        session.add(Feedback(kb_id="apostille_how_to_apply", helpful=True))
    with TestClient(create_app(settings, relay=relay)) as client:
        client.post("/api/v1/messages", json={"session_id": widget_session(), "text": "附加证明书"})
        login(client, "agent1")
        page = client.get("/console/analytics").text
    assert page.count("<svg") >= 4
    assert "apostille" in page and "100% 👍" in page
    assert "&lt;script&gt;x" in page and "<script>x" not in page
