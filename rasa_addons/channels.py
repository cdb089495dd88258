"""Rasa's REST channel with its request body checked (same URL: /webhooks/rest/webhook).

Rasa's `RestInput` calls `request.json.get(...)`: a body that is valid JSON but not an object
(`""`, `[1, 2]`, `NaN`) raised AttributeError → HTTP 500, and a non-string sender or message went
on into the pipeline (found by scripts/fuzz.py). Here such requests get a 400 with a short JSON
error, and the sender and message must be strings (metadata an object).

Two more checks, before anything is parsed or reaches the NLU pipeline:
- a message longer than MAX_MESSAGE_CHARS (the api's and the bots' own limit) gets 413 at once —
  200,000 characters used to hold the server for 14 s, and every other conversation with it;
- with APP_ENV=production, or whenever RASA_WEBHOOK_SECRET is set, only requests carrying that
  shared secret in `X-Webhook-Secret` (the api and the bots) are taken; others get 403. In
  production a missing secret refuses every request (fail closed).

Named in credentials.yml as `rasa_addons.channels.SafeRestInput`. The settings are read from
the environment: this runs inside Rasa, without the app's settings module.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse


class InvalidBody(SanicException):
    status_code = 400
    quiet = True  # a client error: no traceback in Rasa's log


SECRET_HEADER = "X-Webhook-Secret"


class SafeRestInput(RestInput):
    """`RestInput` that answers 400 to bodies it cannot use instead of failing with 500, 413 to
    messages that are too long and 403 to callers without the shared secret (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_chars = int(os.environ.get("MAX_MESSAGE_CHARS") or 2000)
        secret = os.environ.get("RASA_WEBHOOK_SECRET") or ""
        self.secret = secret.encode() if secret else None
        self.require_secret = self.secret is not None or os.environ.get("APP_ENV") == "production"

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.exception(InvalidBody)
        async def invalid_body(_: Request, exc: InvalidBody) -> HTTPResponse:
            return response.json({"status": "failure", "reason": str(exc)}, status=400)

        @webhook.middleware("request")
        async def admit(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            return self._refusal(request)

        return webhook

    def _refusal(self, request: Request) -> HTTPResponse | None:
        """403 without the shared secret, 413 for a too-long message; None to go on."""
        if self.require_secret:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if self.secret is None or not hmac.compare_digest(given, self.secret):
                return response.json({"status": "failure", "reason": "forbidden"}, status=403)
        # A UTF-8 character takes at most 4 bytes (JSON escapes: 6 per UTF-16 unit).
        if len(request.body or b"") > self.max_chars * 12 + 4096:
            return _too_long(self.max_chars)
        try:
            message = self._body(request).get("message")
        except InvalidBody:
            return None  # answered with 400 by the handler
        if isinstance(message, str) and len(message) > self.max_chars:
            return _too_long(self.max_chars)
        return None

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json
        except Exception as exc:  # Sanic's own parse error
            raise InvalidBody("the body must be a JSON object") from exc
        if not isinstance(body, dict):
            raise InvalidBody("the body must be a JSON object")
        return body

    async def _extract_sender(self, req: Request) -> str | None:
        sender = self._body(req).get("sender")
        if sender is not None and (not isinstance(sender, str) or not sender.strip()):
            raise InvalidBody("sender must be a non-empty string")
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = self._body(req).get("message")
        if not isinstance(message, str):  # a missing message crashed the NLU pipeline
            raise InvalidBody("message must be a string")
        return message

    def _extract_input_channel(self, req: Request) -> str:
        channel = self._body(req).get("input_channel")
        return channel if isinstance(channel, str) and channel else self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = self._body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidBody("metadata must be a JSON object")
        return metadata


def _too_long(max_chars: int) -> HTTPResponse:
    return response.json(
        {"status": "failure", "reason": f"message longer than {max_chars} characters"},
        status=413,
    )
