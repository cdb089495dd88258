"""Async client for Rasa's REST channel and its HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error; the message was not processed."""


@dataclass
class BotMessage:
    """One bot turn as channels render it: text and/or the machine-readable payload."""

    text: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the widget api."""
        return {"text": self.text, "custom": self.custom or None}


def pair_messages(raw: list[dict[str, Any]]) -> list[BotMessage]:
    """Join Rasa's REST items into turns.

    Rasa splits a text at blank lines into several items and sends the `custom` payload as a
    further item; every turn of this assistant ends with its payload, so texts accumulate
    until a payload closes the turn.
    """
    out: list[BotMessage] = []
    open_turn: BotMessage | None = None
    for item in raw:
        custom = item.get("custom")
        text = item.get("text")
        if isinstance(text, str):
            if open_turn is None:
                open_turn = BotMessage(text=text)
                out.append(open_turn)
            else:
                open_turn.text = f"{open_turn.text}\n\n{text}"
        if isinstance(custom, dict):
            if open_turn is not None:
                open_turn.custom = custom
            else:
                out.append(BotMessage(custom=custom))
            open_turn = None
    return out


def conversation_path(sender_id: str) -> str:
    """The sender id as a path segment of Rasa's HTTP API.

    Rasa's web framework (Sanic) does not percent-decode path parameters, so the ':' of our
    channel prefixes must stay literal (`web%3Aabc` would address another conversation).
    """
    return quote(sender_id, safe=":@")


WEBHOOK_SECRET_HEADER = "X-Webhook-Secret"


class RasaClient:
    """POSTs citizen messages to /webhooks/rest/webhook; checks health.

    The HTTP API token goes in an `Authorization: Bearer` header, never in the URL (Rasa's
    `?token=` would end up in access logs; rasa_addons/server.py makes Rasa read the header),
    and the webhook gets the shared RASA_WEBHOOK_SECRET (rasa_addons/channels.py checks it).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 30.0,
        client: httpx.AsyncClient | None = None,
        webhook_secret: str | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.webhook_secret = webhook_secret
        self._client = client or httpx.AsyncClient(timeout=timeout_s)

    @classmethod
    def from_settings(cls, settings: Any, client: httpx.AsyncClient | None = None) -> RasaClient:
        """A client with RASA_URL, RASA_TOKEN, RASA_WEBHOOK_SECRET and RASA_TIMEOUT_S."""
        return cls(
            settings.rasa_url,
            token=settings.rasa_token.get_secret_value() if settings.rasa_token else None,
            timeout_s=settings.rasa_timeout_s,
            client=client,
            webhook_secret=settings.rasa_webhook_secret.get_secret_value()
            if settings.rasa_webhook_secret
            else None,
        )

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _call(self, method: str, path: str, **request: Any) -> httpx.Response:
        """One request to Rasa; RasaUnavailable when it cannot be reached or answers other
        than 200."""
        try:
            response = await self._client.request(method, f"{self.base_url}{path}", **request)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(exc.__class__.__name__) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"status {response.status_code}")
        return response

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Deliver one message; the bot's replies, paired."""
        response = await self._call(
            "POST",
            "/webhooks/rest/webhook",
            json={
                "sender": sender_id,
                "message": text,
                **({"metadata": metadata} if metadata else {}),
            },
            headers={WEBHOOK_SECRET_HEADER: self.webhook_secret} if self.webhook_secret else None,
        )
        try:
            raw = response.json()
        except ValueError as exc:
            raise RasaUnavailable("invalid JSON") from exc
        if not isinstance(raw, list):
            raise RasaUnavailable("unexpected reply shape")
        return pair_messages(raw)

    async def is_ready(self) -> bool:
        """True when Rasa answers and has a model loaded."""
        try:
            response = await self._client.get(
                f"{self.base_url}/status", headers=self._auth, timeout=5
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_file"))

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to a conversation (e.g. `{"event": "resume"}` when staff close a ticket)."""
        await self._call(
            "POST",
            f"/conversations/{conversation_path(sender_id)}/tracker/events",
            headers=self._auth,
            json=events,
        )

    async def tracker_events(self, sender_id: str) -> list[dict[str, Any]]:
        """The conversation's events (token-protected HTTP API); [] for an unknown sender."""
        response = await self._call(
            "GET",
            f"/conversations/{conversation_path(sender_id)}/tracker",
            headers=self._auth,
            timeout=10,
        )
        try:
            events = response.json().get("events")
        except (ValueError, AttributeError) as exc:
            raise RasaUnavailable("unexpected tracker shape") from exc
        return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []

    async def resume(self, sender_id: str) -> None:
        """Let the bot answer this conversation again after a handoff."""
        await self.append_events(sender_id, [{"event": "resume"}])

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
