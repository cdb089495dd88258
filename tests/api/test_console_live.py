"""Console as an everyday tool: live fragments and the alert feed, transfer and close rules,
ratings after close, search, earlier tickets, saved replies, KB answers to insert, language,
waiting-time colours, analytics of the human service, the KB review queue."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from core.conversation.analytics import record_turn, summary
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import HandoffMessage, HandoffTicket, Outbox, ServiceRating
from core.handoff import ratings, store
from core.handoff.tickets import request_handoff, route_to_open_ticket
from core.notify.outbox import channel_of
from tests.api.console_helpers import RasaWithApi, add_user, form_csrf, login
from tests.factories import widget_session

ROOT = Path(__file__).resolve().parents[2]
WEB_SESSION = widget_session()
SENDER = f"web:{WEB_SESSION}"


@pytest.fixture
def rasa() -> RasaWithApi:
    return RasaWithApi()


@pytest.fixture
def kb_dir(tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", copy)
    return copy


@pytest.fixture
def app(settings, sessions, rasa, kb_dir):
    settings = settings.model_copy(update={"kb_dir": kb_dir, "console_wait_target_s": 600})
    return create_app(settings, relay=Relay(rasa.client(), sessions, settings.max_message_chars))


def staff_client(app, sessions, username: str, role: str = "agent") -> TestClient:
    add_user(sessions, username, role)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    assert login(client, username).status_code == 303
    return client


@pytest.fixture
def agent1(app, sessions):
    client = staff_client(app, sessions, "agent1")
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def agent2(app, sessions):
    client = staff_client(app, sessions, "agent2")
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def admin(app, sessions):
    client = staff_client(app, sessions, "boss1", "admin")
    yield client
    client.__exit__(None, None, None)


def open_ticket(sessions, sender=SENDER, text="我的护照问题", priority="normal", topic=None):
    with session_scope(sessions) as session:
        reason = "emergency:danger" if priority == "urgent" else "citizen_request"
        info = request_handoff(session, sender, reason, priority=priority, topic=topic)
        route_to_open_ticket(session, sender, text)
        return info.ticket


def csrf(client, ticket_id: int) -> str:
    return form_csrf(client.get(f"/console/tickets/{ticket_id}").text)


def claim(client, ticket_id: int) -> None:
    token = csrf(client, ticket_id)
    assert (
        client.post(f"/console/tickets/{ticket_id}/claim", data={"csrf_token": token}).status_code
        == 200
    )


def ticket(sessions, ticket_id: int) -> HandoffTicket:
    with session_scope(sessions) as session:
        return session.get(HandoffTicket, ticket_id)


# --- live --------------------------------------------------------------------------------


def test_live_feed_lists_open_tickets_without_citizen_text(agent1, sessions):
    normal = open_ticket(sessions)
    urgent = open_ticket(sessions, "tg:77", "在国外被扣押了", priority="urgent")
    body = agent1.get("/console/live").json()
    assert body["tickets"] == [
        {"id": urgent, "priority": "urgent", "state": "queued"},
        {"id": normal, "priority": "normal", "state": "queued"},
    ]
    assert "扣押" not in str(body)
    assert agent1.get("/console").text.count('<meta http-equiv="refresh"') == 0


def test_queue_fragment_flashes_unclaimed_emergencies_and_colours_waiting(agent1, sessions):
    urgent = open_ticket(sessions, "tg:78", "出事了", priority="urgent")
    late = open_ticket(sessions, "web:late-citizen-1")
    with session_scope(sessions) as session:
        session.get(HandoffTicket, late).created_at = dt.datetime.now(dt.UTC) - dt.timedelta(
            minutes=11
        )
    html = agent1.get("/console/fragments/queue").text
    assert "<html" not in html
    row = re.search(rf'<tr class="([^"]*)" data-ticket="{urgent}"', html).group(1)
    assert row.split() == ["urgent", "flash"]
    late_row = html[html.index(f'data-ticket="{late}"') :]
    assert 'data-wait="over"' in late_row.split("</tr>")[0]
    claim(agent1, urgent)
    html = agent1.get("/console/fragments/queue").text
    assert re.search(rf'<tr class="urgent" data-ticket="{urgent}"', html)


def test_ticket_fragment_shows_new_citizen_messages(agent1, sessions):
    ticket_id = open_ticket(sessions)
    assert "第二条消息" not in agent1.get(f"/console/fragments/tickets/{ticket_id}").text
    with session_scope(sessions) as session:
        route_to_open_ticket(session, SENDER, "第二条消息")
    fragment = agent1.get(f"/console/fragments/tickets/{ticket_id}").text
    assert "第二条消息" in fragment and "<html" not in fragment


def test_console_script_is_served_and_allowed_by_the_policy(agent1):
    page = agent1.get("/console")
    assert '<script src="/console/static/console.js" defer>' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = agent1.get("/console/static/console.js")
    assert script.status_code == 200 and "AudioContext" in script.text
    assert "innerHTML" not in script.text


# --- transfer and close ------------------------------------------------------------------


def test_two_agents_transfer_and_closing_another_agents_ticket_is_refused(
    agent1, agent2, admin, sessions, rasa
):
    ticket_id = open_ticket(sessions)
    claim(agent1, ticket_id)
    # agent2 cannot take over, transfer or close agent1's ticket.
    token2 = csrf(agent2, ticket_id)
    refused = agent2.post(f"/console/tickets/{ticket_id}/close", data={"csrf_token": token2})
    assert refused.status_code == 409 and "只有其本人或管理员可以结束" in refused.text
    assert rasa.appended == []  # the bot was not resumed either
    refused = agent2.post(
        f"/console/tickets/{ticket_id}/transfer", data={"csrf_token": token2, "to": "agent2"}
    )
    assert refused.status_code == 409
    assert ticket(sessions, ticket_id).claimed_by == "agent1"

    # agent1 transfers to agent2, who can now reply; agent1 no longer can.
    token1 = csrf(agent1, ticket_id)
    moved = agent1.post(
        f"/console/tickets/{ticket_id}/transfer", data={"csrf_token": token1, "to": "agent2"}
    )
    assert moved.status_code == 200 and ticket(sessions, ticket_id).claimed_by == "agent2"
    reply = agent1.post(
        f"/console/tickets/{ticket_id}/reply", data={"csrf_token": token1, "text": "hi"}
    )
    assert reply.status_code == 409
    reply = agent2.post(
        f"/console/tickets/{ticket_id}/reply", data={"csrf_token": token2, "text": "您好"}
    )
    assert reply.status_code == 200
    with session_scope(sessions) as session:
        notes = session.scalars(
            select(HandoffMessage.text).where(HandoffMessage.author == "note")
        ).all()
    assert notes == ["agent1 将工单转交给 agent2（原处理人 agent1）"]

    # An admin may close a ticket someone else holds.
    token = csrf(admin, ticket_id)
    closed = admin.post(f"/console/tickets/{ticket_id}/close", data={"csrf_token": token})
    assert closed.status_code == 200 and ticket(sessions, ticket_id).state == "closed"


def test_transfer_to_an_unknown_user_is_refused(agent1, sessions):
    ticket_id = open_ticket(sessions)
    token = csrf(agent1, ticket_id)
    response = agent1.post(
        f"/console/tickets/{ticket_id}/transfer", data={"csrf_token": token, "to": "nobody"}
    )
    assert response.status_code == 409 and ticket(sessions, ticket_id).state == "queued"


# --- rating after close -------------------------------------------------------------------


def close_as(client, sessions, ticket_id):
    claim(client, ticket_id)
    token = csrf(client, ticket_id)
    assert (
        client.post(f"/console/tickets/{ticket_id}/close", data={"csrf_token": token}).status_code
        == 200
    )


def test_closing_asks_the_citizen_for_a_rating_stored_once(agent1, sessions):
    ticket_id = open_ticket(sessions)
    close_as(agent1, sessions, ticket_id)
    updates = agent1.get(f"/api/v1/conversations/{WEB_SESSION}/updates").json()["messages"]
    request = updates[-1]
    assert request["custom"] == {
        "type": "rating_request",
        "ticket": ticket_id,
        "scale": [1, 2, 3, 4, 5],
    }
    assert "1–5" in request["text"]

    body = {"session_id": WEB_SESSION, "ticket": ticket_id, "score": 4}
    assert agent1.post("/api/v1/ratings", json=body).status_code == 201
    assert agent1.post("/api/v1/ratings", json=body).status_code == 409  # once per ticket
    other = {**body, "session_id": widget_session()}
    assert agent1.post("/api/v1/ratings", json=other).status_code == 409
    assert agent1.post("/api/v1/ratings", json={**body, "score": 6}).status_code == 422
    with session_scope(sessions) as session:
        rows = session.scalars(select(ServiceRating)).all()
        assert [(r.ticket_id, r.score, r.channel) for r in rows] == [(ticket_id, 4, "web")]
    assert "4/5" in agent1.get(f"/console/tickets/{ticket_id}").text


def test_an_open_ticket_cannot_be_rated(agent1, sessions):
    ticket_id = open_ticket(sessions)
    body = {"session_id": WEB_SESSION, "ticket": ticket_id, "score": 5}
    refused = agent1.post("/api/v1/ratings", json=body)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "rating_refused"


def test_rating_requests_follow_the_citizens_language(sessions):
    from core.notify.preferences import set_lang

    ticket_id = open_ticket(sessions, "tg:55")
    with session_scope(sessions) as session:
        set_lang(session, "tg:55", "en", dt.datetime.now(dt.UTC))
        row = ratings.request_rating(session, session.get(HandoffTicket, ticket_id))
        assert row.channel == "tg" and row.text.startswith("Please rate")


def test_a_bare_digit_soon_after_the_request_is_the_rating(sessions):
    ticket_id = open_ticket(sessions, "wx:openid-1")
    now = dt.datetime.now(dt.UTC)
    with session_scope(sessions) as session:
        assert ratings.rate_by_digit(session, "wx:openid-1", 5, now) is None  # nothing asked yet
        closed = session.get(HandoffTicket, ticket_id)
        store.close_ticket(session, closed, now)
        ratings.request_rating(session, closed)
        assert ratings.rate_by_digit(session, "wx:openid-1", 7, now) is None
        assert ratings.rate_by_digit(session, "wx:openid-1", 5, now) == "感谢您的评价！"
        assert ratings.rate_by_digit(session, "wx:openid-1", 3, now) is None  # already rated
        assert ratings.ticket_rating(session, ticket_id) == 5
        assert closed.channel == "wx"


def test_wechat_senders_have_their_own_channel():
    assert channel_of("wx:o123") == "wx"
    assert channel_of("tg:1") == "tg" and channel_of("web:abc") == "web"
    assert channel_of("someone") == "rest"


# --- search and earlier tickets ------------------------------------------------------------


def test_search_by_number_text_channel_topic_and_date(agent1, sessions):
    first = open_ticket(sessions, "web:search-a-1", "护照在国外丢了", topic="consular_protection")
    second = open_ticket(sessions, "tg:91", "签证材料问题", topic="visa_agency")

    def found(**params) -> list[int]:
        html = agent1.get("/console/search", params=params).text
        return [int(n) for n in re.findall(r'<tr data-ticket="(\d+)"', html)]

    assert found(q=f"#{second}") == [second]
    assert found(q="护照") == [first]
    assert found(channel="tg") == [second]
    assert found(topic="consular_protection") == [first]
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert found(date_from=today.isoformat(), date_to=today.isoformat()) == [second, first]
    assert found(date_to=(today - dt.timedelta(days=2)).isoformat()) == []
    assert found(q="100%_") == []
    assert "请输入条件后搜索" in agent1.get("/console/search").text


def test_ticket_page_lists_the_citizens_earlier_tickets(agent1, sessions):
    older = open_ticket(sessions, "web:repeat-citizen-1", "第一次")
    with session_scope(sessions) as session:
        store.close_ticket(session, session.get(HandoffTicket, older), dt.datetime.now(dt.UTC))
    newer = open_ticket(sessions, "web:repeat-citizen-1", "又来了")
    stranger = open_ticket(sessions, "web:someone-else-2", "别人")
    page = agent1.get(f"/console/tickets/{newer}").text
    earlier = page[page.index('id="earlier-tickets"') :]
    assert f'href="/console/tickets/{older}"' in earlier
    assert f'href="/console/tickets/{stranger}"' not in earlier


# --- inserting answers -----------------------------------------------------------------------


def test_kb_answers_are_searchable_by_text_for_the_reply_box(agent1):
    results = agent1.get("/console/kb/search", params={"q": "附加证明书怎么办理"}).json()["results"]
    assert results and results[0]["kb_id"].startswith("apostille")
    assert all(r["text"] and "{office" not in r["text"] for r in results)
    english = agent1.get("/console/kb/search", params={"q": "apostille", "lang": "en"}).json()
    assert english["results"]


def test_admins_keep_saved_replies_that_agents_can_insert(admin, agent1, sessions):
    page = admin.get("/console/replies")
    token = form_csrf(page.text)
    added = admin.post(
        "/console/replies",
        data={"csrf_token": token, "title": "问候", "text": "您好，我是外事侨务办工作人员。"},
    )
    assert added.status_code == 200 and "问候" in added.text
    empty = admin.post("/console/replies", data={"csrf_token": token, "title": "", "text": "x"})
    assert empty.status_code == 422
    assert agent1.get("/console/replies").status_code == 403
    ticket_id = open_ticket(sessions)
    claim(agent1, ticket_id)
    page = agent1.get(f"/console/tickets/{ticket_id}").text
    assert 'data-text="您好，我是外事侨务办工作人员。"' in page
    reply_id = re.search(r'action="/console/replies/(\d+)/delete"', added.text).group(1)
    assert (
        admin.post(f"/console/replies/{reply_id}/delete", data={"csrf_token": token}).status_code
        == 200
    )
    assert "问候" not in admin.get("/console/replies").text


# --- language --------------------------------------------------------------------------------


def test_console_language_is_stored_per_user(agent1, agent2, sessions):
    open_ticket(sessions)
    token = form_csrf(agent1.get("/console").text)
    switched = agent1.post(
        "/console/lang",
        data={"csrf_token": token, "lang": "en", "next": "/console/search?q=1"},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/console/search?q=1"
    english = agent1.get("/console").text
    assert '<html lang="en">' in english and "Open tickets" in english and "Claim" not in english
    assert "Queue" in english and "Web" in english
    chinese = agent2.get("/console").text
    assert '<html lang="zh-CN">' in chinese and "待处理工单" in chinese
    offsite = agent1.post(
        "/console/lang",
        data={"csrf_token": token, "lang": "zh", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert offsite.headers["location"] == "/console"


def test_every_console_template_text_has_an_english_version(agent1):
    from api.routes.console.i18n import EN

    missing = set()
    for path in (ROOT / "api" / "templates").glob("*.html"):
        if path.name in ("audit.html", "users.html", "login.html"):
            continue  # the security engineer's pages
        source = path.read_text(encoding="utf-8")
        for _, text in re.findall(r"""_\((["'])(.+?)\1\)""", source):
            if text not in EN and re.search(r"[\u4e00-\u9fff]", text):
                missing.add(text)
    assert not missing, sorted(missing)


# --- analytics -------------------------------------------------------------------------------


def test_analytics_shows_ratings_reply_and_close_times_and_tables(agent1, sessions, settings):
    # Noon today (UTC): the ticket's half hour stays on one day whatever time the test runs.
    now = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(12), tzinfo=dt.UTC)
    ticket_id = open_ticket(sessions, "tg:31")
    with session_scope(sessions) as session:
        t = session.get(HandoffTicket, ticket_id)
        t.created_at = now - dt.timedelta(minutes=30)
        reply = store.add_message(session, t, "staff", "您好")
        reply.created_at = now - dt.timedelta(minutes=20)
        store.close_ticket(session, t, now)
        ratings.record_rating(session, "tg:31", ticket_id, 4, now)
        for sender, channel in (("web:a-123456", "web"), ("tg:31", "tg"), ("wx:o1", "wx")):
            record_turn(session, "salt", sender, channel, [{"type": "kb_answer"}])
    with session_scope(sessions) as session:
        data = summary(session, now, dt.UTC, 7)
    assert data.ratings == [0, 0, 0, 1, 0] and data.rating_mean == 4
    assert data.first_reply_min[-1] == 10.0 and data.close_min[-1] == 30.0
    assert dict(data.by_channel) == {"web": 1, "tg": 1, "wx": 1}
    page = agent1.get("/console/analytics").text
    assert 'id="rating-mean">4.0 / 5' in page and "👍" in page
    assert "首次人工回复用时" in page and "结束用时" in page
    assert page.count('class="sr-only"') >= 5  # a table behind every chart
    assert 'font-size="11"' not in page
    assert "微信" in page
    tables = agent1.get("/console/analytics?view=table").text
    assert "<svg" not in tables.split("<main")[1] and "<table>" in tables


# --- review queue (issue 15) -----------------------------------------------------------------


def test_review_queue_lists_old_entries_and_approval_updates_the_date(
    app, sessions, kb_dir, monkeypatch
):
    from core import services

    entry_path = kb_dir / "apostille" / "apostille_what_is.yml"
    old = entry_path.read_text(encoding="utf-8")
    since = yaml.safe_load(old)["effective_from"]  # reviewed on the day it took effect
    assert (dt.date.today() - since).days > 365
    old = re.sub(r"^last_reviewed:.*$", f"last_reviewed: {since.isoformat()}", old, flags=re.M)
    entry_path.write_text(old, encoding="utf-8")
    editor = staff_client(app, sessions, "editor1", "editor")
    try:
        monkeypatch.setattr(services, "get_settings", lambda: app.state.settings)
        services.get_kb.cache_clear()
        page = editor.get("/console/review").text
        assert 'data-kb-id="apostille_what_is"' in page
        token = form_csrf(page)
        started = editor.post(
            "/console/review/apostille_what_is", data={"csrf_token": token}, follow_redirects=False
        )
        assert started.status_code == 303
        draft_url = started.headers["location"]
        form = editor.get(draft_url).text
        assert "apostille_what_is" in form
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
        data = yaml.safe_load(old)
        approved = editor.post(
            draft_url,
            data={
                "csrf_token": token,
                "kb_id": fields["kb_id"],
                "topic": fields["topic"],
                "title": data["title"],
                "questions": "\n".join(data["questions"]),
                "answer": data["answer"],
                "sources": "\n".join(f"{s['title']} | {s['url']}" for s in data["sources"]),
                "action": "approve",
            },
        )
        assert approved.status_code == 200, approved.text
        written = entry_path.read_text(encoding="utf-8")
        assert f"last_reviewed: {dt.date.today().isoformat()}" in written
        # only the date changed: the rest of the file is as the editors wrote it
        assert re.sub(r"^last_reviewed:.*$", "", written, flags=re.M) == re.sub(
            r"^last_reviewed:.*$", "", old, flags=re.M
        )
        services.get_kb.cache_clear()
        assert 'data-kb-id="apostille_what_is"' not in editor.get("/console/review").text
    finally:
        services.get_kb.cache_clear()
        editor.__exit__(None, None, None)


def test_agents_cannot_open_the_review_queue(agent1):
    assert agent1.get("/console/review").status_code == 403


def test_outbox_rows_for_the_rating_have_the_tickets_channel(sessions):
    ticket_id = open_ticket(sessions, "tg:66")
    with session_scope(sessions) as session:
        t = session.get(HandoffTicket, ticket_id)
        store.close_ticket(session, t, dt.datetime.now(dt.UTC))
        ratings.request_rating(session, t)
        ratings.request_rating(session, t)  # once per ticket
        rows = session.scalars(select(Outbox).where(Outbox.kind == "rating_request")).all()
        assert [(r.channel, r.sender_id) for r in rows] == [("tg", "tg:66")]
