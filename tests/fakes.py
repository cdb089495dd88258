"""Fake Rasa REST channel (httpx MockTransport) for api and bot tests."""

from __future__ import annotations

import json

import httpx

from core.conversation.rasa_client import RasaClient


class FakeRasa:
    """Answers like Rasa's REST webhook; records what it received; can be switched off."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.down = False
        self.silent = False  # answers 200 [] as Rasa does when a custom action failed

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "fake.tar.gz"})
        body = json.loads(request.content)
        self.received.append(body)
        if self.silent:
            return httpx.Response(200, json=[])
        sender = body["sender"]
        return httpx.Response(
            200,
            json=[
                {"recipient_id": sender, "text": f"答复：{body['message']}"},
                {
                    "recipient_id": sender,
                    "custom": {
                        "type": "kb_answer",
                        "kb_id": "apostille_how_to_apply",
                        "topic": "apostille",
                        "sources": [{"title": "中国领事服务网", "url": "https://cs.mfa.gov.cn/"}],
                        "last_reviewed": "2026-11-23",
                        "follow_up": ["notarization_first"],
                        "options": [
                            {"kb_id": "notarization_first", "title": "办认证前要先公证吗？"}
                        ],
                    },
                },
            ],
        )

    def client(self) -> RasaClient:
        transport = httpx.MockTransport(self.handler)
        return RasaClient("http://rasa.test", client=httpx.AsyncClient(transport=transport))
