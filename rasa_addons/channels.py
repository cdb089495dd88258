"""Rasa's REST channel with its request body checked (same URL: /webhooks/rest/webhook).

Rasa's `RestInput` calls `request.json.get(...)`: a body that is valid JSON but not an object
(`""`, `[1, 2]`, `NaN`) raised AttributeError → HTTP 500, and a non-string sender or message went
on into the pipeline (found by scripts/fuzz.py). Here such requests get a 400 with a short JSON
error, and the sender and message must be strings (metadata an object).

Named in credentials.yml as `rasa_addons.channels.SafeRestInput`.
"""

from __future__ import annotations

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


class SafeRestInput(RestInput):
    """`RestInput` that answers 400 to bodies it cannot use instead of failing with 500."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.exception(InvalidBody)
        async def invalid_body(_: Request, exc: InvalidBody) -> HTTPResponse:
            return response.json({"status": "failure", "reason": str(exc)}, status=400)

        return webhook

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
        if message is not None and not isinstance(message, str):
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
