"""Issue 17, the api: signed widget sessions, their rationing, redacted history and ticket page,
read-only staff tokens, token management (CLI and console), event keys and dates, body limits,
log redaction."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.limits import AccessLogRedaction
from api.main import create_app
from core.cases.sync import EventIn, add_case_event
from core.conversation.relay import Relay
from core.conversation.widget_sessions import mint
from core.db.engine import session_scope
from core.db.models import ApiToken, AuditLog, Case, CaseEvent
from core.handoff.tickets import request_handoff
from core.staff import __main__ as staff_cli
from core.staff.tokens import create_token
from tests.api.console_helpers import RasaWithApi, add_user, form_csrf, login
from tests.factories import WIDGET_SECRET, make_case, shows, widget_session

CASE = {
    "kind": "visa_agency",
    "state": "received",
    "applicant_name": "赵敏",
    "phone": "13800004321",
}


@pytest.fixture
def rasa() -> RasaWithApi:
    return RasaWithApi()


def make_client(settings, sessions, rasa, **overrides) -> TestClient:
    settings = settings.model_copy(update=overrides)
    relay = Relay(rasa.client(), sessions)
    return TestClient(create_app(settings, relay=relay), raise_server_exceptions=False)


@pytest.fixture
def client(settings, sessions, rasa):
    with make_client(settings, sessions, rasa) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- widget sessions ---------------------------------------------------------------------------


def test_the_api_issues_session_ids_and_refuses_any_other(client):
    issued = client.post("/api/v1/sessions")
    assert issued.status_code == 201
    session = issued.json()["session_id"]
    ok = client.post("/api/v1/messages", json={"session_id": session, "text": "你好"})
    assert ok.status_code == 200
    forged = session[:-1] + ("A" if session[-1] != "A" else "B")
    other_key = mint("not-the-api's-secret", int(dt.datetime.now(dt.UTC).timestamp()))
    for bad in (forged, other_key, "chosen-by-the-browser-123"):
        response = client.post("/api/v1/messages", json={"session_id": bad, "text": "你好"})
        assert response.status_code == 401, bad
        assert response.json()["error"]["code"] == "invalid_session"
        for path in ("messages", "updates", "events"):
            got = client.get(f"/api/v1/conversations/{bad}/{path}")
            assert got.status_code == 401, (bad, path)
        vote = {"session_id": bad, "kb_id": "apostille_how_to_apply", "helpful": True}
        assert client.post("/api/v1/feedback", json=vote).status_code == 401


def test_an_expired_session_id_is_refused(settings, sessions, rasa):
    old = mint(WIDGET_SECRET, int(dt.datetime.now(dt.UTC).timestamp()) - 31 * 86400)
    with make_client(settings, sessions, rasa) as c:
        response = c.post("/api/v1/messages", json={"session_id": old, "text": "你好"})
    assert response.status_code == 401


def test_new_sessions_are_rationed_per_client_address(settings, sessions, rasa):
    with make_client(settings, sessions, rasa, widget_sessions_per_hour=3) as c:
        statuses = [c.post("/api/v1/sessions").status_code for _ in range(4)]
        refused = c.post("/api/v1/sessions")
    assert statuses == [201, 201, 201, 429]
    assert int(refused.headers["Retry-After"]) > 0


UNREDACTED = [  # a tracker stored before the redaction existed
    {"event": "active_loop", "timestamp": 1.0, "name": "case_status_form"},
    {"event": "slot", "timestamp": 1.1, "name": "requested_slot", "value": "phone_last4"},
    {"event": "user", "timestamp": 2.0, "text": "5678", "parse_data": {"text": "5678"}},
    {"event": "slot", "timestamp": 2.1, "name": "phone_last4", "value": "5678"},
    {"event": "active_loop", "timestamp": 2.2, "name": None},
    {"event": "bot", "timestamp": 3.0, "text": "因私签证代办（VA-2026-000123）", "data": {}},
    {"event": "user", "timestamp": 4.0, "text": "VA-2026-000456 验证码 QW123456"},
]


def test_history_and_the_ticket_page_hide_verification_secrets(client, rasa, sessions):
    session = widget_session()
    sender = f"web:{session}"
    rasa.trackers[sender] = UNREDACTED
    history = client.get(f"/api/v1/conversations/{session}/messages").json()["messages"]
    texts = [m["text"] for m in history]
    assert "VA-2026-000456 验证码 ****" in texts and not shows("5678", str(history))
    assert "QW123456" not in str(history)
    add_user(sessions, "agent1", "agent")
    with session_scope(sessions) as db:
        ticket = request_handoff(db, sender, "citizen_request").ticket
    login(client, "agent1")
    page = client.get(f"/console/tickets/{ticket}").text
    assert "VA-2026-000123" in page and not shows("5678", page) and "QW123456" not in page


# --- integration API ---------------------------------------------------------------------------


@pytest.fixture
def tokens(sessions):
    with session_scope(sessions) as session:
        return {
            "integration": create_token(session, "case-system", "integration"),
            "staff": create_token(session, "console-reader", "staff"),
        }


def test_read_only_staff_tokens_cannot_write_and_every_use_is_audited(client, tokens, sessions):
    staff = auth(tokens["staff"])
    assert client.put("/api/v1/cases/VA-2026-000777", json=CASE, headers=staff).status_code == 403
    assert (
        client.post(
            "/api/v1/cases", json={**CASE, "reference": "VA-2026-000777"}, headers=staff
        ).status_code
        == 403
    )
    event = {"event_id": "e1", "state": "closed"}
    assert (
        client.post("/api/v1/cases/VA-2026-000777/events", json=event, headers=staff).status_code
        == 403
    )
    writer = auth(tokens["integration"])
    assert client.put("/api/v1/cases/VA-2026-000777", json=CASE, headers=writer).status_code == 201
    assert client.get("/api/v1/cases/VA-2026-000777", headers=staff).status_code == 200
    with session_scope(sessions) as session:
        rows = session.execute(select(AuditLog.actor, AuditLog.action, AuditLog.target)).all()
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        used = session.scalars(select(ApiToken.last_used_at)).all()
    assert ("token:console-reader", "api_token_refused", "PUT /api/v1/cases/{reference}") in rows
    assert ("token:case-system", "api_token_use", "PUT /api/v1/cases/{reference}") in rows
    assert ("token:console-reader", "api_token_use", "GET /api/v1/cases/{reference}") in rows
    assert all(stamp is not None for stamp in used)


def test_an_event_in_the_future_is_rejected(client, tokens):
    writer = auth(tokens["integration"])
    client.put("/api/v1/cases/VA-2026-000777", json=CASE, headers=writer)
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    response = client.post(
        "/api/v1/cases/VA-2026-000777/events",
        json={"event_id": "e1", "state": "in_review", "occurred_at": ahead},
        headers=writer,
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "occurred_at"


def test_the_longest_event_id_fits_the_key_column(db_session):
    """On PostgreSQL a key of reference + 64-character id (79 characters) overflowed
    case_events.event_key (64): the push failed with 500."""
    make_case(db_session, "VA-2026-000123")
    event_id = "x" * 64
    first, created = add_case_event(
        db_session,
        "VA-2026-000123",
        EventIn(event_id=event_id, state="submitted"),
        dt.datetime.now(dt.UTC),
    )
    again, duplicate = add_case_event(
        db_session,
        "VA-2026-000123",
        EventIn(event_id=event_id, state="submitted"),
        dt.datetime.now(dt.UTC),
    )
    assert created and not duplicate and again.id == first.id
    assert len(db_session.get(CaseEvent, first.id).event_key) == 64


def test_request_bodies_are_limited(client, tokens):
    big = {**CASE, "applicant_name": "张" * 40_000}  # 120 KB of UTF-8
    response = client.put(
        "/api/v1/cases/VA-2026-000777", json=big, headers=auth(tokens["integration"])
    )
    assert response.status_code == 413
    chunked = client.post(
        "/api/v1/messages",
        content=iter([b'{"session_id": "x", "text": "', b"a" * 70_000, b'"}']),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413  # no Content-Length: counted while reading


def test_tokens_are_listed_and_revoked_from_the_cli(
    settings, sessions, monkeypatch, capsys, client
):
    monkeypatch.setattr("core.settings.get_settings", lambda: settings)
    monkeypatch.setattr("core.db.engine.get_settings", lambda: settings, raising=False)
    assert staff_cli.main(["tokens", "create", "case-system"]) == 0
    token = capsys.readouterr().out.strip()
    assert client.get("/api/v1/lockouts", headers=auth(token)).status_code == 403  # writes only
    assert staff_cli.main(["tokens", "list"]) == 0
    listing = capsys.readouterr().out
    assert "case-system\tintegration\tactive" in listing and token not in listing
    token_id = int(listing.split("\t")[0])
    assert staff_cli.main(["tokens", "revoke", str(token_id)]) == 0
    assert (
        client.put("/api/v1/cases/VA-2026-000777", json=CASE, headers=auth(token)).status_code
        == 401
    )
    assert staff_cli.main(["tokens", "revoke", "999"]) == 1


def test_admins_create_and_revoke_tokens_in_the_console(client, sessions):
    add_user(sessions, "boss", "admin")
    login(client, "boss")
    page = client.get("/console/tokens").text
    created = client.post(
        "/console/tokens",
        data={"csrf_token": form_csrf(page), "name": "case-system", "role": "integration"},
    )
    token = created.text.split("<code>")[1].split("</code>")[0]
    assert (
        client.put("/api/v1/cases/VA-2026-000777", json=CASE, headers=auth(token)).status_code
        == 201
    )
    with session_scope(sessions) as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    client.post(f"/console/tokens/{token_id}/revoke", data={"csrf_token": form_csrf(page)})
    assert (
        client.put("/api/v1/cases/VA-2026-000777", json=CASE, headers=auth(token)).status_code
        == 401
    )
    listed = client.get("/console/tokens").text
    assert "已撤销" in listed and token not in listed
    with session_scope(sessions) as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor == "boss")).all()
    assert {"create_token", "revoke_token"} <= set(actions)


# --- logs --------------------------------------------------------------------------------------


def test_the_access_log_names_no_conversation_and_no_client():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.9:5555", "GET", "/api/v1/conversations/wabc123/updates?after=3", "1.1", 200),
        None,
    )
    AccessLogRedaction().filter(record)
    line = record.getMessage()
    assert line == '- - "GET /api/v1/conversations/{id}/updates HTTP/1.1" 200'


def test_database_errors_do_not_carry_the_statement_parameters(sessions):
    stream = io.StringIO()
    with pytest.raises(Exception) as failed, session_scope(sessions) as session:
        make_case(session, "VA-2026-000123", name="机密姓名")
        session.add(Case(reference="VA-2026-000123", kind="visa_agency", state="x",
                         applicant_masked="机密姓名", phone_hash="p"))  # fmt: skip
        session.flush()
    print(failed.value, file=stream)
    assert "机密姓名" not in stream.getvalue() and "parameters hidden" in stream.getvalue()
