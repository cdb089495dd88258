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
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # answered "ok"
    attempts: list[str] = field(default_factory=list)  # every method called, failures too
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    blocked_chats: set[str] = field(default_factory=set)  # sendMessage → 403 (bot blocked)
    pushed: list[int] = field(default_factory=list)  # update ids handed to the bot
    processed: list[int] = field(default_factory=list)  # update ids the dispatcher finished
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

    def push(self, update: dict[str, Any]) -> int:
        update.setdefault("update_id", next(self._ids))
        self.updates.append(update)
        self.pushed.append(update["update_id"])
        return int(update["update_id"])

    async def wait_processed(self, timeout: float = 10) -> None:
        """Until the dispatcher has finished every pushed update (replies included)."""
        deadline = time.monotonic() + timeout
        while not set(self.pushed) <= set(self.processed):
            if time.monotonic() > deadline:
                raise AssertionError("updates not processed in time")
            await asyncio.sleep(0.05)

    def fail(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """Answer the next call of `method` with an error (e.g. 429 with retry_after)."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.failures.setdefault(method, []).append(body)

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
        for key in ("reply_markup", "allowed_updates", "results", "button"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        if method != "getUpdates":
            self.attempts.append(method)
            if self.failures.get(method):
                body = self.failures[method].pop(0)
                return web.json_response(body, status=body["error_code"])
            if method == "sendMessage" and str(params.get("chat_id")) in self.blocked_chats:
                body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"}
                return web.json_response(body, status=403)
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


def group_update(
    chat_id: int,
    text: str,
    *,
    entities: list[dict[str, Any]] | None = None,
    reply_to_bot: bool = False,
    chat_type: str = "supergroup",
) -> dict[str, Any]:
    """A text message in a group chat, optionally mentioning or replying to the bot."""
    message: dict[str, Any] = {
        "message_id": 20,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type, "title": "侨胞群"},
        "from": {"id": 77, "is_bot": False, "first_name": "Member"},
        "text": text,
    }
    if entities:
        message["entities"] = entities
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": 19,
            "date": int(time.time()),
            "chat": message["chat"],
            "from": {"id": 1, "is_bot": True, "first_name": "侨务助手", "username": "qw_bot"},
            "text": "earlier answer",
        }
    return {"message": message}


def callback_update(
    chat_id: int,
    data: str,
    *,
    inaccessible: bool = False,
    reply_markup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button press on a message of the bot in a private chat (or on a too-old message)."""
    message: dict[str, Any] = {
        "message_id": 3,
        "date": 0 if inaccessible else int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
    }
    if not inaccessible:
        message["text"] = "earlier answer"
        if reply_markup:
            message["reply_markup"] = reply_markup
    return {
        "callback_query": {
            "id": f"cb{chat_id}{len(data)}",
            "chat_instance": "x",
            "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "T"},
            "message": message,
        }
    }


@dataclass
class MutableClock:
    """An injectable clock for the bot (UTC-aware datetimes)."""

    now: Any

    def __call__(self) -> Any:
        return self.now


@dataclass
class RunningBot:
    """A bot polling the fake server: its dispatcher, bot and the recorded back-off sleeps."""

    dp: Any
    bot: Any
    task: asyncio.Task[Any]
    sleeps: list[float]

    async def stop(self) -> None:
        await self.dp.stop_polling()
        await asyncio.wait_for(self.task, 15)
        await self.bot.session.close()


async def start_bot(
    telegram: FakeTelegram, relay: Any, kb: Any, **dispatcher_kwargs: Any
) -> RunningBot:
    """Build the real Bot and Dispatcher against the fake server and start polling."""
    from bot.telegram.app import build_bot, build_dispatcher

    sleeps: list[float] = []

    async def record_sleep(delay: float) -> None:
        sleeps.append(delay)
        await asyncio.sleep(0)

    bot = build_bot("123456:TEST-TOKEN", telegram.base, sleep=record_sleep)
    dp = build_dispatcher(relay, kb, **dispatcher_kwargs)

    async def track(handler: Any, update: Any, data: dict[str, Any]) -> Any:
        try:
            return await handler(update, data)
        finally:
            telegram.processed.append(update.update_id)

    dp.update.outer_middleware(track)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    return RunningBot(dp, bot, task, sleeps)
