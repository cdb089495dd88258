"""What the WeChat modules share: the relay (imported here only), sender ids, transactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from core.conversation.rasa_client import BotMessage, RasaClient
from core.conversation.relay import MessageRejected, Relay, ServiceUnavailable, build_relay
from core.db.engine import in_transaction

__all__ = [
    "BotMessage",
    "Clock",
    "MessageRejected",
    "RasaClient",
    "Relay",
    "ServiceUnavailable",
    "build_relay",
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
