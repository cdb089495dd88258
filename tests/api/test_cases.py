"""Integration API: token auth, idempotent upserts and events, validation, notifications."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import Case, CaseEvent, Outbox, Subscription
from core.staff.tokens import create_token
from tests.fakes import FakeRasa

CASE = {
    "reference": "VA-2026-000777",
    "kind": "visa_agency",
    "state": "received",
    "applicant_name": "赵敏",
    "phone": "138-0000-4321",
    "query_code": "QC12345",
}


@pytest.fixture
def tokens(sessions):
    with session_scope(sessions) as session:
        return {
            "integration": create_token(session, "case-system", "integration"),
            "staff": create_token(session, "console", "staff"),
        }


@pytest.fixture
def client(settings, sessions):
    relay = Relay(FakeRasa().client(), sessions)
    with TestClient(create_app(settings, relay=relay), raise_server_exceptions=False) as c:
        yield c


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_requests_without_valid_token_are_refused(client, tokens):
    assert client.post("/api/v1/cases", json=CASE).status_code == 401
    response = client.post("/api/v1/cases", json=CASE, headers=auth("qw_wrong"))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert (
        client.get("/api/v1/cases/VA-2026-000777", headers=auth(tokens["integration"])).status_code
        == 403
    )


def test_create_stores_no_plain_personal_data(client, tokens, sessions):
    response = client.post("/api/v1/cases", json=CASE, headers=auth(tokens["integration"]))
    assert response.status_code == 201
    assert response.json()["applicant_masked"] == "赵*"
    with session_scope(sessions) as session:
        case = session.scalars(select(Case)).one()
        stored = " ".join(str(v) for v in vars(case).values())
    assert "赵敏" not in stored and "4321" not in stored and "QC12345" not in stored


def test_post_twice_conflicts_but_idempotency_key_replays(client, tokens, sessions):
    headers = {**auth(tokens["integration"]), "Idempotency-Key": "req-1"}
    first = client.post("/api/v1/cases", json=CASE, headers=headers)
    replay = client.post("/api/v1/cases", json=CASE, headers=headers)
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()
    other = client.post("/api/v1/cases", json={**CASE, "state": "in_review"}, headers=headers)
    assert other.status_code == 409
    plain = client.post("/api/v1/cases", json=CASE, headers=auth(tokens["integration"]))
    assert plain.status_code == 409 and plain.json()["error"]["code"] == "exists"
    with session_scope(sessions) as session:
        assert len(session.scalars(select(Case)).all()) == 1


def test_put_is_an_idempotent_upsert(client, tokens, sessions):
    body = {k: v for k, v in CASE.items() if k != "reference"}
    url = "/api/v1/cases/va 2026 000777"
    created = client.put(url, json=body, headers=auth(tokens["integration"]))
    again = client.put(url, json=body, headers=auth(tokens["integration"]))
    assert created.status_code == 201 and again.status_code == 200
    assert again.json()["changed"] is False and again.json()["reference"] == "VA-2026-000777"
    moved = client.put(
        url, json={**body, "state": "in_review"}, headers=auth(tokens["integration"])
    )
    assert moved.json()["changed"] is True and moved.json()["state"] == "in_review"
    with session_scope(sessions) as session:
        assert [e.state for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id))] == [
            "received",
            "in_review",
        ]


def test_duplicate_events_change_nothing_and_subscribers_are_notified_once(
    client, tokens, sessions
):
    client.post("/api/v1/cases", json=CASE, headers=auth(tokens["integration"]))
    with session_scope(sessions) as session:
        case = session.scalars(select(Case)).one()
        session.add(Subscription(sender_id="tg:99", kind="case", case_id=case.id))
    event = {"event_id": "sys-42", "state": "completed"}
    first = client.post(
        "/api/v1/cases/VA-2026-000777/events", json=event, headers=auth(tokens["integration"])
    )
    second = client.post(
        "/api/v1/cases/VA-2026-000777/events", json=event, headers=auth(tokens["integration"])
    )
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["duplicate"] is True and first.json()["state"] == "completed"
    with session_scope(sessions) as session:
        rows = session.scalars(select(Outbox)).all()
    assert [(r.channel, r.sender_id, r.kind) for r in rows] == [("tg", "tg:99", "notification")]
    assert rows[0].payload["state"] == "completed" and "赵" not in rows[0].text


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"kind": "tourism"}, "kind"),
        ({"state": "lost"}, "state"),
        ({"reference": "XX-1"}, "reference"),
        ({"reference": "LA-2026-000777"}, "prefix"),
        ({"phone": "<script>"}, "phone"),
        ({"applicant_name": "名" * 100}, "applicant_name"),
        ({"extra": 1}, "extra"),
        ({"phone": 12345678}, "phone"),
    ],
)
def test_invalid_bodies_get_422_naming_the_field(client, tokens, patch, field):
    response = client.post(
        "/api/v1/cases", json={**CASE, **patch}, headers=auth(tokens["integration"])
    )
    assert response.status_code == 422
    assert field in str(response.json()["error"]["fields"])


def test_event_for_unknown_case_is_404_and_malformed_reference_422(client, tokens):
    event = {"event_id": "e1", "state": "completed"}
    headers = auth(tokens["integration"])
    assert (
        client.post("/api/v1/cases/VA-2026-999999/events", json=event, headers=headers).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/cases/';DROP TABLE cases;--/events", json=event, headers=headers
        ).status_code
        == 422
    )


def test_staff_can_read_case_history_and_lockouts(client, tokens):
    client.post("/api/v1/cases", json=CASE, headers=auth(tokens["integration"]))
    response = client.get("/api/v1/cases/VA-2026-000777", headers=auth(tokens["staff"]))
    assert response.status_code == 200
    assert [e["state"] for e in response.json()["events"]] == ["received"]
    assert client.get("/api/v1/lockouts", headers=auth(tokens["staff"])).json() == []


def test_openapi_documents_the_integration_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/cases",
        "/api/v1/cases/{reference}",
        "/api/v1/cases/{reference}/events",
    } <= set(paths)


def test_database_down_gives_503_without_trace(settings, tokens):
    broken = settings.model_copy(update={"database_url": "sqlite:////nonexistent-dir/a/b.db"})
    with TestClient(
        create_app(broken, relay=Relay(FakeRasa().client(), None)),  # type: ignore[arg-type]
        raise_server_exceptions=False,
    ) as c:
        response = c.post("/api/v1/cases", json=CASE, headers=auth(tokens["integration"]))
    assert response.status_code == 503
    assert "Traceback" not in response.text
