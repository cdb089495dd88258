"""Prometheus metrics of the api: requests, reply types, fallbacks, handoffs; access control."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import SecretStr

from api.main import create_app
from core.conversation.relay import Relay
from tests.factories import widget_session
from tests.fakes import FakeRasa

LOCAL = ("127.0.0.1", 50000)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


def client_for(settings, sessions, rasa, **kwargs) -> TestClient:
    relay = Relay(rasa.client(), sessions, settings.max_message_chars)
    return TestClient(create_app(settings, relay=relay), raise_server_exceptions=False, **kwargs)


def post(client: TestClient, text: str) -> None:
    response = client.post("/api/v1/messages", json={"session_id": widget_session(), "text": text})
    assert response.status_code == 200


def test_requests_replies_and_handoffs_are_counted(settings, sessions, rasa):
    route = {"method": "POST", "route": "/api/v1/messages", "status": "200"}
    before = {
        "requests": sample("qiaowu_http_requests_total", **route),
        "answers": sample("qiaowu_bot_replies_total", channel="web", type="kb_answer"),
        "parked": sample("qiaowu_handoffs_total", channel="web", reason="bot_unavailable"),
        "latency": sample(
            "qiaowu_http_request_duration_seconds_count", method="POST", route="/api/v1/messages"
        ),
    }
    with client_for(settings, sessions, rasa, client=LOCAL) as client:
        post(client, "附加证明书怎么办理")
        rasa.down = True
        post(client, "你好")
        text = client.get("/metrics").text
    assert sample("qiaowu_http_requests_total", **route) == before["requests"] + 2
    assert (
        sample(
            "qiaowu_http_request_duration_seconds_count", method="POST", route="/api/v1/messages"
        )
        == before["latency"] + 2
    )
    assert (
        sample("qiaowu_bot_replies_total", channel="web", type="kb_answer") == before["answers"] + 1
    )
    assert (
        sample("qiaowu_handoffs_total", channel="web", reason="bot_unavailable")
        == before["parked"] + 1
    )
    assert "qiaowu_http_requests_total" in text and "qiaowu_fallbacks_total" in text
    assert "metrics-123" not in text  # no sender ids in labels


def test_unmatched_paths_share_one_label(settings, sessions, rasa):
    with client_for(settings, sessions, rasa, client=LOCAL) as client:
        client.get("/no/such/path/12345")
        text = client.get("/metrics").text
    assert "/no/such/path" not in text
    assert 'route="unmatched"' in text


def test_metrics_are_loopback_only_without_a_token(settings, sessions, rasa):
    with client_for(settings, sessions, rasa, client=("203.0.113.9", 40000)) as client:
        assert client.get("/metrics").status_code == 403
    with client_for(settings, sessions, rasa, client=LOCAL) as client:
        assert client.get("/metrics").status_code == 200


def test_metrics_token_is_required_when_set(settings, sessions, rasa):
    settings = settings.model_copy(update={"metrics_token": SecretStr("s3cret-token")})
    with client_for(settings, sessions, rasa, client=LOCAL) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and "qiaowu_http_requests_total" in ok.text
