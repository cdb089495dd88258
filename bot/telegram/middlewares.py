"""Per-update concerns: the citizen's language, per-user flood control (in-process token
bucket), one chat's updates in order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram import texts
from bot.telegram.conversation import sender_of
from core.db.engine import in_transaction
from core.notify.preferences import stored_lang

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


@dataclass
class TokenBuckets:
    """`burst` messages at once, then `rate` per second, per key; in memory, one process."""

    burst: int = 5
    rate: float = 0.5
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 10_000
    _buckets: dict[int, _Bucket] = field(default_factory=dict)

    def take(self, key: int) -> tuple[bool, bool]:
        """(allowed, first_refusal): whether to handle, and whether to tell the user once."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return True, False
        first = not bucket.warned
        bucket.warned = True
        return False, first

    def _prune(self, now: float) -> None:
        if len(self._buckets) < self.max_keys:
            return
        full_after = self.burst / self.rate if self.rate > 0 else float("inf")
        for key in [k for k, b in self._buckets.items() if now - b.updated > full_after]:
            del self._buckets[key]


def chat_of(event: TelegramObject) -> int | None:
    """The chat an update belongs to (a button press: the chat of its message)."""
    chat = getattr(event, "chat", None)
    if chat is None and isinstance(event, CallbackQuery) and event.message is not None:
        chat = event.message.chat
    return chat.id if chat is not None else None


class CitizenLanguage(BaseMiddleware):
    """Gives handlers `lang`: the language stored for the chat (the citizen's /lang choice or
    the language they wrote in last), else English when their Telegram app is in English,
    else Chinese."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["lang"] = await self.language(event)
        return await handler(event, data)

    async def language(self, event: TelegramObject) -> str:
        chat = chat_of(event)
        if chat is not None:
            try:
                stored = await in_transaction(self.sessions, stored_lang, sender_of(chat))
            except Exception:
                logger.warning("lang_lookup_failed", extra={"event": "lang_lookup_failed"})
                stored = None
            if stored is not None:
                return stored
        user = getattr(event, "from_user", None)
        code = (getattr(user, "language_code", None) or "").lower()
        return "en" if code.startswith("en") else "zh"


class FloodControl(BaseMiddleware):
    """Drops a user's messages and button presses beyond their budget, telling them once."""

    def __init__(self, buckets: TokenBuckets):
        self.buckets = buckets

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        private = isinstance(event, CallbackQuery) or (
            isinstance(event, Message) and event.chat.type == "private"
        )
        if user is None or not private:
            return await handler(event, data)  # group chats are handled (ignored) elsewhere
        allowed, first_refusal = self.buckets.take(user.id)
        if allowed:
            return await handler(event, data)
        logger.info("flood_limited", extra={"event": "flood_limited"})
        if isinstance(event, CallbackQuery) or (first_refusal and isinstance(event, Message)):
            await event.answer(texts.text("flooded", data.get("lang")))
        return None


class PerChatOrder(BaseMiddleware):
    """Handle one chat's updates one after another, in arrival order (chats run in parallel).

    aiogram handles updates concurrently; without this, a double-tapped /subscribe or two
    quick messages could race each other to the database or reach Rasa out of order.
    """

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        key = chat_of(event)
        if key is None:
            return await handler(event, data)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]
