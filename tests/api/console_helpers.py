"""Helpers (no tests) shared by the console and widget tests: Rasa fake with HTTP API, login."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from core.conversation.rasa_client import RasaClient
from core.db.engine import session_scope
from core.staff.users import create_user
from tests.fakes import FakeRasa

PASSWORD = "correct horse battery"


class RasaWithApi(FakeRasa):
    """FakeRasa plus the tracker endpoints: GET tracker, POST tracker events (resume)."""

    def __init__(self) -> None:
        super().__init__()
        self.trackers: dict[str, list[dict[str, Any]]] = {}
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"/conversations/([^/]+)/tracker(/events)?", request.url.path)
        if match is None:
            return super().handler(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        # The raw path: Rasa (Sanic) does not percent-decode, so neither does this fake.
        sender = request.url.raw_path.decode().split("?")[0].split("/")[2]
        if match.group(2):
            self.appended.append((sender, json.loads(request.content)))
            return httpx.Response(200, json={"sender_id": sender, "events": []})
        return httpx.Response(
            200, json={"sender_id": sender, "events": self.trackers.get(sender, [])}
        )

    def client(self) -> RasaClient:
        transport = httpx.MockTransport(self.handler)
        return RasaClient(
            "http://rasa.test", token="t", client=httpx.AsyncClient(transport=transport)
        )


def add_user(sessions: Any, username: str, role: str) -> None:
    """Create a console user with PASSWORD."""
    with session_scope(sessions) as session:
        create_user(session, username, PASSWORD, role)


def form_csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def login(client: Any, username: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form (with its CSRF token); the response of the POST."""
    token = form_csrf(client.get("/console/login").text)
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
