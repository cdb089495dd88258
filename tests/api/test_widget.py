"""Widget api: 1,000-character cap, rate limit, feedback, history, staff replies by SSE / polling,
office hours."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import Feedback, HandoffTicket, Outbox
from core.handoff.office_hours import OfficeHours
from core.handoff.tickets import (
    claim_ticket,
    reply_to_ticket,
    request_handoff,
    route_to_open_ticket,
)
from core.staff.users import create_user
from tests.api.console_helpers import RasaWithApi
from tests.factories import widget_session

SESSION = widget_session()
OTHER_SESSION = widget_session()
SENDER = f"web:{SESSION}"


@pytest.fixture
def rasa() -> RasaWithApi:
    return RasaWithApi()


def make_client(settings, sessions, rasa, **overrides):
    settings = settings.model_copy(update=overrides)
    relay = Relay(rasa.client(), sessions, settings.max_message_chars)
    return TestClient(create_app(settings, relay=relay), raise_server_exceptions=False)


@pytest.fixture
def client(settings, sessions, rasa):
    with make_client(settings, sessions, rasa) as c:
        yield c


def post(client, text, session_id=SESSION):
    return client.post("/api/v1/messages", json={"session_id": session_id, "text": text})


def staff_reply(sessions, text="请提供您的护照号。") -> int:
    """Open, claim and answer a ticket for SENDER; the ticket id."""
    with session_scope(sessions) as session:
        agent = create_user(session, "agent1", "a-long-password", "agent")
        info = request_handoff(session, SENDER, "citizen_request")
        route_to_open_ticket(session, SENDER, "我要找人工")
        claim_ticket(session, info.ticket, "agent1", dt.datetime.now(dt.UTC))
        reply_to_ticket(session, info.ticket, agent.id, "agent1", text)
        return info.ticket


def test_widget_caps_messages_at_1000_characters(client, rasa):
    assert post(client, "问" * 1000).status_code == 200
    response = post(client, "问" * 1001)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_long"
    assert "1000" in response.json()["error"]["message"]
    assert len(rasa.received) == 1


def test_widget_rate_limits_each_session(settings, sessions, rasa):
    with make_client(settings, sessions, rasa, widget_rate_per_minute=3) as client:
        assert [post(client, f"问题{i}").status_code for i in range(3)] == [200, 200, 200]
        limited = post(client, "再问一次")
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        assert post(client, "别的会话", session_id=OTHER_SESSION).status_code == 200
    assert len(rasa.received) == 4


def test_feedback_is_stored_without_the_session(client, sessions):
    body = {"session_id": SESSION, "kb_id": "apostille_how_to_apply", "helpful": False}
    assert client.post("/api/v1/feedback", json=body).status_code == 201
    unknown = client.post("/api/v1/feedback", json={**body, "kb_id": "no_such_entry"})
    assert unknown.status_code == 404
    invalid = client.post("/api/v1/feedback", json={**body, "kb_id": "<script>"})
    assert invalid.status_code == 422
    with session_scope(sessions) as session:
        rows = session.scalars(select(Feedback)).all()
        assert [(r.kb_id, r.helpful) for r in rows] == [("apostille_how_to_apply", False)]


def test_staff_reply_reaches_every_tab_by_its_own_cursor(client, sessions):
    staff_reply(sessions)
    first = client.get(f"/api/v1/conversations/{SESSION}/updates").json()
    assert [(m["role"], m["custom"]["type"]) for m in first["messages"]] == [
        ("system", "handoff"),
        ("staff", "staff_reply"),
    ]
    assert first["messages"][1]["text"] == "请提供您的护照号。"
    assert first["cursor"] == first["messages"][1]["id"]
    # A second tab (cursor 0) still gets both; the first tab, past its cursor, nothing new.
    second = client.get(f"/api/v1/conversations/{SESSION}/updates?after=0").json()["messages"]
    assert [m["id"] for m in second] == [m["id"] for m in first["messages"]]
    after = client.get(f"/api/v1/conversations/{SESSION}/updates?after={first['cursor']}")
    assert after.json() == {"messages": [], "cursor": first["cursor"]}
    other = client.get(f"/api/v1/conversations/{OTHER_SESSION}/updates").json()["messages"]
    assert other == []
    with session_scope(sessions) as session:
        assert all(row.sent_at is not None for row in session.scalars(select(Outbox)))


def test_staff_reply_is_streamed_as_server_sent_events(settings, sessions, rasa):
    staff_reply(sessions, "<b>您好</b>")
    with make_client(settings, sessions, rasa, widget_stream_s=1.0) as client:
        response = client.get(f"/api/v1/conversations/{SESSION}/events")
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "event: message" in response.text
        assert '"text": "<b>您好</b>"' in response.text
        with session_scope(sessions) as session:
            assert all(row.sent_at is not None for row in session.scalars(select(Outbox)))
            newest = max(row.id for row in session.scalars(select(Outbox)))
        assert f"id: {newest}\n" in response.text
        # Another tab streaming from the start gets it too; a reconnect resumes after its id.
        other_tab = client.get(f"/api/v1/conversations/{SESSION}/events")
        assert '"text": "<b>您好</b>"' in other_tab.text
        resumed = client.get(
            f"/api/v1/conversations/{SESSION}/events", headers={"Last-Event-ID": str(newest)}
        )
        assert "event: message" not in resumed.text


def test_history_merges_bot_turns_ticket_messages_and_delivered_replies(client, sessions, rasa):
    rasa.trackers[SENDER] = [
        {"event": "action", "timestamp": 1_000.0, "name": "action_listen"},
        {"event": "user", "timestamp": 1_000.5, "text": "附加证明书怎么办理？"},
        {
            "event": "bot",
            "timestamp": 1_001.0,
            "text": "答复",
            "data": {"custom": {"type": "kb_answer", "kb_id": "apostille_how_to_apply"}},
        },
    ]
    staff_reply(sessions)
    loaded = client.get(f"/api/v1/conversations/{SESSION}/messages").json()
    history = loaded["messages"]
    # A tab that loads the history sees the staff messages written so far (and its cursor is
    # past them, so its stream does not repeat them).
    assert loaded["cursor"] == history[-1]["id"]
    assert client.get(
        f"/api/v1/conversations/{SESSION}/updates?after={loaded['cursor']}"
    ).json()["messages"] == []
    assert [(m["role"], m["text"]) for m in history] == [
        ("user", "附加证明书怎么办理？"),
        ("bot", "答复"),
        ("user", "我要找人工"),
        ("system", history[3]["text"]),
        ("staff", "请提供您的护照号。"),
    ]
    assert history[1]["custom"]["kb_id"] == "apostille_how_to_apply"


def test_history_without_rasa_still_shows_the_app_database_part(client, sessions, rasa):
    staff_reply(sessions)
    rasa.down = True
    history = client.get(f"/api/v1/conversations/{SESSION}/messages")
    assert history.status_code == 200
    assert [m["role"] for m in history.json()["messages"]] == ["user", "system", "staff"]


@pytest.mark.parametrize("path", ["messages", "updates", "events"])
def test_conversation_paths_reject_malformed_session_ids(client, path):
    assert client.get(f"/api/v1/conversations/bad!id/{path}").status_code == 422


SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = OfficeHours.parse("09:00-17:00", "1-5", "Asia/Shanghai")


@pytest.mark.parametrize(
    "local, is_open, next_open",
    [
        (dt.datetime(2026, 11, 23, 10, 0), True, dt.datetime(2026, 11, 24, 9, 0)),  # Monday
        (dt.datetime(2026, 11, 23, 8, 59), False, dt.datetime(2026, 11, 23, 9, 0)),
        (dt.datetime(2026, 11, 23, 17, 0), False, dt.datetime(2026, 11, 24, 9, 0)),
        (dt.datetime(2026, 11, 27, 18, 0), False, dt.datetime(2026, 11, 30, 9, 0)),  # Friday
        (dt.datetime(2026, 11, 29, 12, 0), False, dt.datetime(2026, 11, 30, 9, 0)),  # Sunday
    ],
)
def test_office_hours(local, is_open, next_open):
    now = local.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
    assert HOURS.is_open(now) is is_open
    assert HOURS.next_open(now) == next_open.replace(tzinfo=SHANGHAI)
    assert HOURS.describe() == "周一至周五 09:00–17:00"


def test_messages_to_a_queued_ticket_after_hours_say_when_staff_answer(sessions, rasa):
    today = dt.datetime.now(SHANGHAI).isoweekday()
    closed_today = ",".join(str(d) for d in range(1, 8) if d != today)
    closed = Relay(
        rasa.client(),
        sessions,
        hours=OfficeHours.parse("09:00-17:00", closed_today, "Asia/Shanghai"),
    )
    always = Relay(
        rasa.client(), sessions, hours=OfficeHours.parse("00:00-23:59:59", "1-7", "Asia/Shanghai")
    )
    with session_scope(sessions) as session:
        request_handoff(session, SENDER, "citizen_request")

    replies = asyncio.run(closed.handle(SENDER, "有人吗"))
    assert [m.custom["type"] for m in replies] == ["handoff", "office_hours"]
    assert "非工作时间" in replies[1].text and "09:00" in replies[1].text
    replies = asyncio.run(always.handle(SENDER, "有人吗"))
    assert [m.custom["type"] for m in replies] == ["handoff"]
    with session_scope(sessions) as session:
        ticket = session.scalar(select(HandoffTicket))
        assert [m.text for m in ticket.messages] == ["有人吗", "有人吗"]
