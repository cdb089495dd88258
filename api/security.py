"""Security headers for every response of the api (pure ASGI middleware).

- all responses: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
- HTML pages outside the console (the demo page, the OpenAPI docs): a Content-Security-Policy
  without 'unsafe-inline' for scripts. Inline `<script>`/`<style>` blocks of the page itself are
  allowed by their SHA-256 hash (computed from the body, which is small and contains no
  citizen input). The widget brings no inline style (it loads `widget.css`), so nothing of
  widget.js is parsed here and host sites need no hash for it. They cannot be framed
  (`frame-ancestors 'none'`, `X-Frame-Options: DENY`);
- `/console…`: the console sets its own stricter headers (`api/routes/console/common.py`); only the
  two headers above are added when missing;
- `/widget.js`, `/widget.css`: stay embeddable in any site
  (`Cross-Origin-Resource-Policy: cross-origin`, no framing or CSP headers, which would mean
  nothing on a script or stylesheet anyway);
- `/api/…` JSON: `Cache-Control: no-store` unless the route set its own (conversations hold
  personal data).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
PAGE_HEADERS = {"X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"}
INLINE_RE = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
# Third-party assets of FastAPI's Swagger UI and ReDoc pages; their UIs inject styles at run
# time, so those pages (no citizen content) allow inline styles, never inline scripts.
DOCS_SOURCES = {
    "script-src": ["https://cdn.jsdelivr.net"],
    "style-src": ["https://cdn.jsdelivr.net", "https://fonts.googleapis.com", "'unsafe-inline'"],
    "img-src": ["https://fastapi.tiangolo.com", "https://cdn.redoc.ly"],
    "font-src": ["https://fonts.gstatic.com"],
    "worker-src": ["blob:"],
}


def sha256_source(text: str) -> str:
    """A CSP hash source for an inline block."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_sources(html: str) -> dict[str, list[str]]:
    """Hash sources for the inline scripts and styles of a page."""
    found: dict[str, list[str]] = {"script-src": [], "style-src": []}
    for tag, attributes, body in INLINE_RE.findall(html):
        if tag.lower() == "script" and re.search(r"\bsrc\s*=", attributes, re.IGNORECASE):
            continue
        found[f"{tag.lower()}-src"].append(sha256_source(body))
    return found


def page_policy(html: str, *, docs: bool) -> str:
    """The Content-Security-Policy of one HTML page."""
    directives: dict[str, list[str]] = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
    hashes = inline_sources(html)
    if docs:
        hashes["style-src"] = []  # a hash would make browsers ignore 'unsafe-inline'
        for name, sources in DOCS_SOURCES.items():
            directives.setdefault(name, []).extend(sources)
    for name, sources in hashes.items():
        directives[name].extend(s for s in sources if s not in directives[name])
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeaders:
    """Adds the headers above to every HTTP response, never replacing one a route set."""

    def __init__(self, app: ASGIApp, docs_paths: frozenset[str] = frozenset()):
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        held: list[Message] = []  # an HTML page's start message and body, until complete

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                extra = {**BASE_HEADERS}
                if path.startswith("/api/"):
                    extra["Cache-Control"] = "no-store"
                elif path in ("/widget.js", "/widget.css"):
                    extra["Cross-Origin-Resource-Policy"] = "cross-origin"
                for name, value in extra.items():
                    headers.setdefault(name, value)
                is_page = headers.get("content-type", "").startswith("text/html")
                own_policy = path.startswith("/console") or "content-security-policy" in headers
                if is_page and not own_policy:
                    held.append(message)
                    return
            elif held and message["type"] == "http.response.body":
                held.append(message)
                if message.get("more_body", False):
                    return
                await self._send_page(held, send, docs=path in self.docs_paths)
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _send_page(held: list[Message], send: Send, *, docs: bool) -> None:
        start, *bodies = held
        body = b"".join(m.get("body", b"") for m in bodies)
        headers = MutableHeaders(scope=start)
        html = body.decode("utf-8", errors="replace")
        headers["Content-Security-Policy"] = page_policy(html, docs=docs)
        for name, value in PAGE_HEADERS.items():
            headers.setdefault(name, value)
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})


def install_security_headers(app: FastAPI) -> None:
    """Register the middleware; the docs pages are recognised by the app's own docs URLs."""
    docs = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.add_middleware(SecurityHeaders, docs_paths=frozenset(p for p in docs if p))
