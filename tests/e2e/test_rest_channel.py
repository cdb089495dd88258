"""Rasa's REST webhook (rasa_addons.channels.SafeRestInput): bodies it cannot use get a 400 with
a JSON reason instead of a 500; ordinary messages are unaffected."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import RASA_PORT

pytestmark = pytest.mark.e2e

URL = f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook"


@pytest.mark.parametrize(
    "body",
    [
        '""',
        "[1, 2]",
        "NaN",
        "null",
        "42",
        '{"sender": 5, "message": "你好"}',
        '{"sender": "  ", "message": "你好"}',
        '{"sender": "x-1", "message": ["你好"]}',
        '{"sender": "x-1", "message": "你好", "metadata": "lang=en"}',
        "{not json",
    ],
)
def test_unusable_bodies_get_a_400_with_a_reason(stack, body):
    response = httpx.post(
        URL, content=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "failure"
    assert "Traceback" not in response.text


def test_an_ordinary_message_still_gets_its_reply(convo):
    assert convo.payloads("附加证明书怎么办理？")[-1]["type"] in ("kb_answer", "suggestions")
