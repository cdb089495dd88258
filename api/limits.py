"""Request body limits and an access log without conversation ids.

- `BodyLimit`: POST/PUT/PATCH bodies above MAX_BODY_BYTES (64 KB) get 413 before a route parses
  them — by Content-Length, or while streaming when the length is not announced. Bodies up to
  4 MB are read and dropped first (a client still uploading would otherwise see a reset
  connection, not the 413); larger ones get the 413 at once. The console's forms (KB drafts) may
  be four times as large.
- uvicorn's access log line names the path and query: widget URLs carry the session id (the key
  to a conversation), WeChat callbacks an openid. `install_access_log_redaction` rewrites each
  line's path with `core.logs.redact_path` and drops the client address.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import lang_of_header
from api.errors import OurHTTPError
from core.logs import redact_path
from core.texts import t

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
DRAIN_MAX_BYTES = 4 * 1024 * 1024  # bodies up to this size are read before the 413


class BodyTooLarge(OurHTTPError):
    """Raised from `receive` once the body passes the limit (answered as a JSON 413)."""

    def __init__(self, lang: str = "zh") -> None:
        super().__init__(413, t("api.too_large", lang))


class BodyLimit:
    """413 for request bodies larger than `max_bytes` (4x under /console)."""

    def __init__(self, app: ASGIApp, max_bytes: int = 65536):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes * (4 if scope["path"].startswith("/console") else 1)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        lang = lang_of_header(headers.get(b"accept-language", b"").decode("latin-1"))
        if declared is not None and declared.isdigit() and int(declared) > limit:
            # Read (and drop) a moderately large body first: answering while the client is
            # still sending makes it see a reset connection instead of the 413.
            if int(declared) <= DRAIN_MAX_BYTES:
                await _drain(receive)
            await _reject(send, lang)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body") and received <= DRAIN_MAX_BYTES:
                        await _drain(receive)
                    raise BodyTooLarge(lang)
            return message

        await self.app(scope, limited, send)


async def _drain(receive: Receive) -> None:
    """Consume the rest of a request body (at most DRAIN_MAX_BYTES), discarding it."""
    taken = 0
    while taken <= DRAIN_MAX_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        taken += len(message.get("body", b""))
        if not message.get("more_body"):
            return


async def _reject(send: Send, lang: str) -> None:
    error = {"error": {"code": "too_large", "message": t("api.too_large", lang)}}
    body = json.dumps(error, ensure_ascii=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLogRedaction(logging.Filter):
    """uvicorn.access records: (client, method, path?query, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, redact_path(str(path)), version, status)
        return True


def install_access_log_redaction() -> None:
    """Attach the filter to uvicorn's access logger once per process."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogRedaction) for f in access.filters):
        access.addFilter(AccessLogRedaction())
