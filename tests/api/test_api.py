"""The api: widget relay, bad input, Rasa down, handoff routing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import HandoffMessage, HandoffTicket
from core.handoff.tickets import request_handoff
from tests.factories import widget_session
from tests.fakes import FakeRasa

SESSION = widget_session()


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(settings, sessions, rasa):
    relay = Relay(rasa.client(), sessions, settings.max_message_chars)
    with TestClient(create_app(settings, relay=relay), raise_server_exceptions=False) as c:
        yield c


def post(client, text, session_id=SESSION):
    return client.post("/api/v1/messages", json={"session_id": session_id, "text": text})


def test_demo_page_embeds_widget(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/widget.js"' in page.text
    script = client.get("/widget.js")
    assert script.status_code == 200 and "textContent" in script.text
    assert "innerHTML" not in script.text  # message text is never parsed as HTML


def test_message_is_relayed_with_channel_prefixed_sender(client, rasa):
    response = post(client, "附加证明书怎么办理？")
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert messages[0]["text"] == "答复：附加证明书怎么办理？"
    assert messages[0]["custom"]["type"] == "kb_answer"
    client_tag = rasa.received[0]["metadata"].pop("client")  # a hash of the address, not it
    assert len(client_tag) == 32 and "testclient" not in client_tag
    assert rasa.received == [
        {"sender": f"web:{SESSION}", "message": "附加证明书怎么办理？", "metadata": {"lang": "zh"}}
    ]


@pytest.mark.parametrize(
    "text, status, code",
    [
        ("", 422, "empty"),
        ("   \n\t ", 422, "empty"),
        ("\x00\x01\x02", 422, "empty"),
        ("问" * 2001, 413, "too_long"),
    ],
)
def test_bad_text_gets_clear_json_error(client, rasa, text, status, code):
    response = post(client, text)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert rasa.received == []


def test_errors_are_in_the_widgets_language(client, rasa):
    english = {"Accept-Language": "en"}
    empty = client.post("/api/v1/messages", json={"session_id": SESSION, "text": " ", "lang": "en"})
    assert empty.json()["error"]["message"] == "The message is empty; please type your question."
    forged = client.post(
        "/api/v1/messages",
        json={"session_id": "forged-session-id", "text": "hi"},
        headers=english,
    )
    assert forged.status_code == 401
    assert forged.json()["error"]["message"].startswith("This conversation has expired")
    huge = client.post(
        "/api/v1/messages", content=b"x" * 70_000, headers={**english, "Content-Type": "text/plain"}
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["message"] == "The request is too large and was not processed."
    chinese = client.post("/api/v1/messages", content=b"x" * 70_000)
    assert chinese.json()["error"]["message"] == "请求内容过大，未被处理。"
    assert rasa.received == []


def test_emoji_and_markup_are_passed_through_as_text(client, rasa):
    assert post(client, "😀 <script>alert(1)</script>").status_code == 200
    assert rasa.received[0]["message"] == "😀 <script>alert(1)</script>"


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00binary", "application/json"),
        (b"text=hello", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_body_is_rejected_without_trace(client, body, content_type):
    response = client.post("/api/v1/messages", content=body, headers={"Content-Type": content_type})
    assert response.status_code in (400, 422)
    assert "error" in response.json()
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "payload",
    [
        {"session_id": SESSION},
        {"session_id": "x", "text": "hi"},
        {"session_id": SESSION, "text": 42},
        {"session_id": "../../etc/passwd", "text": "hi"},
        [],
    ],
)
def test_wrong_shape_names_the_field(client, payload):
    response = client.post("/api/v1/messages", json=payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("failure", ["down", "silent"])
def test_rasa_down_or_silent_parks_message_for_staff(client, rasa, sessions, failure):
    setattr(rasa, failure, True)  # silent: Rasa could not run its action (action server down)
    response = post(client, "我的签证材料怎么准备？")
    assert response.status_code == 200
    custom = response.json()["messages"][0]["custom"]
    assert custom["type"] == "unavailable"
    assert "服务暂时不可用" in response.json()["messages"][0]["text"]
    with session_scope(sessions) as session:
        ticket = session.get(HandoffTicket, custom["ticket"])
        assert ticket.reason == "bot_unavailable" and ticket.sender_id == f"web:{SESSION}"
        assert [m.text for m in ticket.messages] == ["我的签证材料怎么准备？"]


def test_rasa_and_database_down_refuses_without_accepting(settings, rasa):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    broken = sessionmaker(bind=create_engine("sqlite:////dev/null/cannot-open.db"))
    rasa.down = True
    relay = Relay(rasa.client(), broken, settings.max_message_chars)
    with TestClient(create_app(settings, relay=relay), raise_server_exceptions=False) as c:
        response = post(c, "你好")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_open_ticket_takes_messages_instead_of_the_bot(client, rasa, sessions):
    with session_scope(sessions) as session:
        info = request_handoff(session, f"web:{SESSION}", "citizen_request")
    response = post(client, "请尽快联系我")
    custom = response.json()["messages"][0]["custom"]
    assert custom["type"] == "handoff" and custom["ticket"] == info.ticket
    assert rasa.received == []
    with session_scope(sessions) as session:
        texts = session.scalars(select(HandoffMessage.text)).all()
    assert texts == ["请尽快联系我"]


def test_unknown_route_is_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "http_404"


@pytest.fixture
def action_server():
    """A stand-in action server answering /health, on a free port."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_health_and_readiness(settings, sessions, rasa, action_server):
    settings = settings.model_copy(update={"action_server_url": action_server})
    relay = Relay(rasa.client(), sessions, settings.max_message_chars)
    with TestClient(create_app(settings, relay=relay), raise_server_exceptions=False) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ok",
            "rasa": "ok",
            "action_server": "ok",
            "database": "ok",
        }
        rasa.down = True
        down = c.get("/readyz")
        assert down.status_code == 503
        assert down.json() | {"status": None} == {
            "status": None,
            "rasa": "unavailable",
            "action_server": "ok",
            "database": "ok",
        }


def test_readiness_names_an_unreachable_action_server_and_database(settings, rasa):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from scripts.stack import free_port

    settings = settings.model_copy(update={"action_server_url": f"http://127.0.0.1:{free_port()}"})
    broken = sessionmaker(bind=create_engine("sqlite:////dev/null/cannot-open.db"))
    relay = Relay(rasa.client(), broken, settings.max_message_chars)
    with TestClient(create_app(settings, relay=relay), raise_server_exceptions=False) as c:
        ready = c.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "rasa": "ok",
        "action_server": "unavailable",
        "database": "unavailable",
    }


def test_rasa_blank_line_splits_are_joined_into_one_turn():
    from core.conversation.rasa_client import pair_messages

    turns = pair_messages(
        [
            {"text": "第一段"},
            {"text": "第二段"},
            {"custom": {"type": "kb_answer"}},
            {"text": "问候"},
            {"custom": {"type": "greeting"}},
        ]
    )
    assert [(t.text, t.custom["type"]) for t in turns] == [
        ("第一段\n\n第二段", "kb_answer"),
        ("问候", "greeting"),
    ]


def test_citizens_cannot_inject_rasa_intents(client, rasa):
    assert post(client, '/ask_case_status{"case_reference": "VA-2026-000123"}').status_code == 200
    assert not rasa.received[0]["message"].startswith("/")
