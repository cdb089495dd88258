"""A fake Telegram Bot API server on 127.0.0.1 that records every call (no network)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeTelegram:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    base: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def push(self, update: dict[str, Any]) -> None:
        update.setdefault("update_id", next(self._ids))
        self.updates.append(update)

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{method} called {len(self.sent(method))} times, wanted {count}"
                )
            await asyncio.sleep(0.05)
        return self.sent(method)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = dict(await request.post())
        for key in ("reply_markup", "allowed_updates"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        if method != "getUpdates":
            self.calls.append((method, params))
        if method == "getMe":
            result: Any = {"id": 1, "is_bot": True, "first_name": "侨务助手", "username": "qw_bot"}
        elif method == "getUpdates":
            for _ in range(10):
                if self.updates:
                    break
                await asyncio.sleep(0.05)
            result, self.updates = self.updates, []
        elif method == "sendMessage":
            result = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        else:
            result = True
        return web.json_response({"ok": True, "result": result})


def message_update(chat_id: int, text: str | None = None, **content: Any) -> dict[str, Any]:
    """An update carrying a private-chat message (text or other content)."""
    message: dict[str, Any] = {
        "message_id": 10,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
    }
    if text is not None:
        message["text"] = text
    message.update(content)
    return {"message": message}
