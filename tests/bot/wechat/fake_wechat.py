"""A fake WeChat Official Account API on 127.0.0.1 that records every call (no network)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeWeChat:
    """stable_token, custom send, template send and menu create, with injectable failures."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # accepted calls
    attempts: list[str] = field(default_factory=list)  # every call, refused ones too
    token_fetches: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)  # path → errcodes to answer
    closed_windows: set[str] = field(default_factory=set)  # openids → 45015 on custom send
    valid_tokens: set[str] = field(default_factory=set)
    base: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/cgi-bin/{path:.+}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, path: str, errcode: int) -> None:
        """Answer the next call of `path` (e.g. "message/custom/send") with `errcode`."""
        self.failures.setdefault(path, []).append(errcode)

    def expire_tokens(self) -> None:
        """Every token issued so far is rejected from now on (errcode 40001)."""
        self.valid_tokens.clear()

    def sent(self, path: str = "message/custom/send") -> list[dict[str, Any]]:
        return [body for name, body in self.calls if name == path]

    def texts_to(self, openid: str) -> list[str]:
        return [b["text"]["content"] for b in self.sent() if b["touser"] == openid]

    async def wait_for(
        self, path: str = "message/custom/send", count: int = 1, timeout: float = 10
    ):
        deadline = time.monotonic() + timeout
        while len(self.sent(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} called {len(self.sent(path))} times, wanted {count}")
            await asyncio.sleep(0.02)
        return self.sent(path)

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body = json.loads(await request.read() or b"{}")
        self.attempts.append(path)
        if path == "stable_token":
            self.token_fetches.append(body)
            if self.failures.get(path):
                return web.json_response({"errcode": self.failures[path].pop(0), "errmsg": "x"})
            token = f"TOKEN-{next(self._ids)}"
            self.valid_tokens.add(token)
            return web.json_response({"access_token": token, "expires_in": 7200})
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if self.failures.get(path):
            return web.json_response({"errcode": self.failures[path].pop(0), "errmsg": "refused"})
        if path == "message/custom/send" and body.get("touser") in self.closed_windows:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit"})
        self.calls.append((path, body))
        return web.json_response({"errcode": 0, "errmsg": "ok"})
