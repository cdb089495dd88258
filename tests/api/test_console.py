"""Staff console: login, lockout, CSRF, roles, queue, claim / reply / note / close, audit."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import (
    AuditLog,
    ConsoleSession,
    HandoffMessage,
    HandoffTicket,
    Outbox,
    StaffUser,
)
from core.handoff.tickets import request_handoff, route_to_open_ticket
from core.staff import __main__ as staff_cli
from tests.api.console_helpers import PASSWORD, RasaWithApi, add_user, form_csrf, login
from tests.factories import widget_session

WEB_SESSION = widget_session()
SENDER = f"web:{WEB_SESSION}"


@pytest.fixture
def rasa() -> RasaWithApi:
    return RasaWithApi()


@pytest.fixture
def client(settings, sessions, rasa):
    relay = Relay(rasa.client(), sessions, settings.max_message_chars)
    with TestClient(create_app(settings, relay=relay), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def agent(client, sessions):
    add_user(sessions, "agent1", "agent")
    assert login(client, "agent1").status_code == 303
    return client


def open_ticket(sessions, sender=SENDER, text="我的护照问题", priority="normal") -> int:
    with session_scope(sessions) as session:
        reason = "emergency:danger" if priority == "urgent" else "citizen_request"
        info = request_handoff(session, sender, reason, priority=priority)
        route_to_open_ticket(session, sender, text)
        return info.ticket


def ticket_csrf(client, ticket_id: int) -> str:
    return form_csrf(client.get(f"/console/tickets/{ticket_id}").text)


def test_create_admin_cli_stores_an_argon2_hash(settings, sessions, monkeypatch):
    monkeypatch.setattr("core.settings.get_settings", lambda: settings)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-admin-password\n"))
    assert staff_cli.main(["create-admin", "boss"]) == 0
    with session_scope(sessions) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "boss"))
        assert user.role == "admin"
        assert user.password_hash.startswith("$argon2id$")
        assert "a-long-admin-password" not in user.password_hash
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert staff_cli.main(["create-admin", "boss2"]) == 1  # too weak


def test_console_requires_login(client):
    response = client.get("/console", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


def test_login_page_has_security_headers(client):
    response = client.get("/console/login")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_login_without_csrf_token_is_rejected(client, sessions):
    add_user(sessions, "agent1", "agent")
    client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": "agent1", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "qw_console" not in response.cookies


def test_session_cookie_is_httponly_and_strict(client, sessions):
    add_user(sessions, "agent1", "agent")
    response = login(client, "agent1")
    cookie = response.headers["set-cookie"]
    assert "qw_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/console").status_code == 200


def test_secure_cookie_in_production_settings(settings, sessions, rasa):
    secure = settings.model_copy(update={"console_cookie_secure": True})
    relay = Relay(rasa.client(), sessions)
    add_user(sessions, "agent1", "agent")
    with TestClient(create_app(secure, relay=relay), base_url="https://testserver") as c:
        assert "Secure" in login(c, "agent1").headers["set-cookie"]


def test_wrong_password_locks_the_account_after_five_attempts(client, sessions):
    add_user(sessions, "agent1", "agent")
    for _ in range(4):
        response = login(client, "agent1", "wrong password!")
        assert response.status_code == 401 and "用户名或密码错误" in response.text
    response = login(client, "agent1", "wrong password!")
    assert response.status_code == 429 and "已锁定" in response.text
    # Even the right password is refused while locked.
    response = login(client, "agent1")
    assert response.status_code == 429
    with session_scope(sessions) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "agent1"))
        assert user.locked_until is not None
        actions = session.scalars(select(AuditLog.action)).all()
    assert actions.count("login_failed") == 4 and "login_locked" in actions


def test_unknown_user_gets_the_same_message_as_a_wrong_password(client):
    response = login(client, "nobody", "whatever-password")
    assert response.status_code == 401 and "用户名或密码错误" in response.text


def test_expired_or_forged_session_is_sent_to_login(client, sessions):
    add_user(sessions, "agent1", "agent")
    login(client, "agent1")
    assert client.get("/console", follow_redirects=False).status_code == 200
    with session_scope(sessions) as session:  # the absolute expiry passes
        for row in session.scalars(select(ConsoleSession)):
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert client.get("/console", follow_redirects=False).status_code == 303
    client.cookies.set("qw_console", "made-up-token", path="/console")  # never issued
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_queue_lists_emergencies_first_and_highlighted(agent, sessions):
    normal = open_ticket(sessions, "web:first-citizen")
    urgent = open_ticket(sessions, "tg:42", "在国外被扣押了", priority="urgent")
    page = agent.get("/console").text
    assert page.index(f'data-ticket="{urgent}"') < page.index(f'data-ticket="{normal}"')
    assert f'<tr class="urgent flash" data-ticket="{urgent}" data-priority="urgent"' in page
    assert "在国外被扣押了" in page and "Telegram" in page


def test_claim_reply_note_close_flow(agent, sessions, rasa):
    ticket_id = open_ticket(sessions)
    rasa.trackers[SENDER] = [
        {"event": "user", "timestamp": 1.0, "text": "转人工"},
        {"event": "bot", "timestamp": 2.0, "text": "已为您转接人工服务", "data": {}},
    ]
    page = agent.get(f"/console/tickets/{ticket_id}").text
    assert "转人工" in page and "已为您转接人工服务" in page and "我的护照问题" in page

    token = ticket_csrf(agent, ticket_id)
    assert (
        agent.post(f"/console/tickets/{ticket_id}/claim", data={"csrf_token": token}).status_code
        == 200
    )
    agent.post(
        f"/console/tickets/{ticket_id}/reply",
        data={"csrf_token": token, "text": "您好，请提供护照号。"},
    )
    agent.post(f"/console/tickets/{ticket_id}/note", data={"csrf_token": token, "text": "需要核实"})

    with session_scope(sessions) as session:
        ticket = session.get(HandoffTicket, ticket_id)
        assert ticket.state == "claimed" and ticket.claimed_by == "agent1"
        rows = session.scalars(select(Outbox).order_by(Outbox.id)).all()
        assert [(r.channel, r.sender_id, r.kind) for r in rows] == [
            ("web", SENDER, "system"),
            ("web", SENDER, "staff_reply"),
        ]
        assert rows[1].text == "您好，请提供护照号。"
        authors = [
            m.author for m in session.scalars(select(HandoffMessage).order_by(HandoffMessage.id))
        ]
        assert authors == ["citizen", "staff", "note"]

    # The citizen's widget receives the claim notice and the reply (not the note), once.
    delivered = agent.get(f"/api/v1/conversations/{WEB_SESSION}/updates").json()["messages"]
    assert [(m["role"], m["text"]) for m in delivered][1] == ("staff", "您好，请提供护照号。")
    assert "需要核实" not in str(delivered)
    cursor = delivered[-1]["id"]
    updates = f"/api/v1/conversations/{WEB_SESSION}/updates?after={cursor}"
    assert agent.get(updates).json()["messages"] == []

    # During the ticket, citizen messages go to the ticket, not to Rasa.
    agent.post("/api/v1/messages", json={"session_id": WEB_SESSION, "text": "护照号是……"})
    assert rasa.received == []

    response = agent.post(f"/console/tickets/{ticket_id}/close", data={"csrf_token": token})
    assert response.status_code == 200 and "已关闭" in response.text
    assert rasa.appended == [(SENDER, [{"event": "resume"}])]
    with session_scope(sessions) as session:
        assert session.get(HandoffTicket, ticket_id).state == "closed"
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert "view_ticket" in actions  # reading a conversation is audited too
    assert [a for a in actions if a != "view_ticket"] == [
        "login",
        "claim_ticket",
        "reply",
        "note",
        "close_ticket",
    ]

    # After closing, the bot answers again.
    answer = agent.post("/api/v1/messages", json={"session_id": WEB_SESSION, "text": "附加证明书"})
    assert answer.json()["messages"][0]["custom"]["type"] == "kb_answer"
    assert rasa.received[-1]["sender"] == SENDER


def test_post_without_csrf_token_changes_nothing(agent, sessions):
    ticket_id = open_ticket(sessions)
    response = agent.post(f"/console/tickets/{ticket_id}/claim", data={})
    assert response.status_code == 403
    response = agent.post(f"/console/tickets/{ticket_id}/claim", data={"csrf_token": "guess"})
    assert response.status_code == 403
    with session_scope(sessions) as session:
        assert session.get(HandoffTicket, ticket_id).state == "queued"


def test_reply_needs_a_claim_by_the_same_agent(agent, client, sessions):
    ticket_id = open_ticket(sessions)
    token = ticket_csrf(agent, ticket_id)
    response = agent.post(
        f"/console/tickets/{ticket_id}/reply", data={"csrf_token": token, "text": "hi"}
    )
    assert response.status_code == 409 and "请先接手" in response.text
    with session_scope(sessions) as session:
        assert session.scalars(select(Outbox)).all() == []


def test_close_keeps_the_ticket_open_when_rasa_is_down(agent, sessions, rasa):
    ticket_id = open_ticket(sessions)
    token = ticket_csrf(agent, ticket_id)
    rasa.down = True
    response = agent.post(f"/console/tickets/{ticket_id}/close", data={"csrf_token": token})
    assert response.status_code == 503
    with session_scope(sessions) as session:
        assert session.get(HandoffTicket, ticket_id).state == "queued"


def test_markup_from_citizens_and_staff_is_shown_as_text(agent, sessions):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ticket_id = open_ticket(sessions, text=payload)
    token = ticket_csrf(agent, ticket_id)
    agent.post(f"/console/tickets/{ticket_id}/claim", data={"csrf_token": token})
    agent.post(f"/console/tickets/{ticket_id}/reply", data={"csrf_token": token, "text": payload})
    for page in (agent.get("/console").text, agent.get(f"/console/tickets/{ticket_id}").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(" in page


def test_audit_page_is_for_admins_only(client, sessions):
    add_user(sessions, "agent1", "agent")
    add_user(sessions, "root1", "admin")
    login(client, "agent1")
    assert client.get("/console/audit").status_code == 403
    login(client, "root1")
    page = client.get("/console/audit")
    assert page.status_code == 200 and "login" in page.text and "agent1" in page.text


def test_admin_creates_and_unlocks_users(client, sessions):
    add_user(sessions, "root1", "admin")
    login(client, "root1")
    token = form_csrf(client.get("/console/users").text)
    response = client.post(
        "/console/users",
        data={
            "csrf_token": token,
            "username": "editor1",
            "password": "another-long-pw",
            "role": "editor",
        },
    )
    assert response.status_code == 200 and "editor1" in response.text
    with session_scope(sessions) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "editor1"))
        assert user.role == "editor"


def test_logout_needs_csrf_and_ends_the_session(agent):
    assert agent.post("/console/logout", data={}, follow_redirects=False).status_code == 403
    token = form_csrf(agent.get("/console").text)
    response = agent.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert agent.get("/console", follow_redirects=False).status_code == 303
