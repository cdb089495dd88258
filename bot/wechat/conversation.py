"""What the WeChat modules share: the relay (imported here only), sender ids, transactions."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from core.conversation.rasa_client import BotMessage, RasaClient
from core.conversation.relay import MessageRejected, Relay, ServiceUnavailable
from core.db.engine import session_scope

__all__ = [
    "BotMessage",
    "Clock",
    "MessageRejected",
    "RasaClient",
    "Relay",
    "ServiceUnavailable",
    "in_transaction",
    "openid_of",
    "sender_of",
]

T = TypeVar("T")
Clock = Callable[[], dt.datetime]
PREFIX = "wx:"


def sender_of(openid: str) -> str:
    """Channel-prefixed sender id (`wx:<openid>`), so trackers never collide across channels."""
    return f"{PREFIX}{openid}"


def openid_of(sender_id: str) -> str | None:
    """The openid of a `wx:` sender, or None for other senders."""
    if not sender_id.startswith(PREFIX) or len(sender_id) == len(PREFIX):
        return None
    return sender_id[len(PREFIX) :]


def utcnow() -> dt.datetime:
    """The real clock (tests inject their own)."""
    return dt.datetime.now(dt.UTC)


async def in_transaction(sessions: sessionmaker[Session], fn: Callable[..., T], *args: Any) -> T:
    """`fn(session, *args)` in a worker thread; committed when it returns, rolled back on error."""

    def run() -> T:
        with session_scope(sessions) as session:
            return fn(session, *args)

    return await asyncio.to_thread(run)
