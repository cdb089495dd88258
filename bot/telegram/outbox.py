"""Delivery of channel 'tg' outbox rows (staff replies, notifications, tips) in the bot process;
core.notify.background runs it with the daily tip schedule.

Delivery guarantee: each row is claimed (conditional UPDATE, its own transaction), sent, and
marked sent in a new transaction right after Telegram confirmed it. A row is never lost: it
stays pending until marked sent, also across restarts. Two bot processes never send the same
row concurrently. The one duplicate window is a crash or a lost Telegram response between
Telegram accepting the message and the mark-sent commit (milliseconds); the row is then sent
again after the restart — for a staff reply a duplicate is better than a loss. When Telegram
is unreachable or rate-limits the bot, the round stops and the loop backs off (up to a minute)
without using up the row's attempts; other errors count, and a row is tried at most
`max_attempts` times; a chat that blocked the bot or no longer exists is not retried. Rows of
one chat keep their order: after a failure the chat's later rows wait.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram.conversation import Clock, chat_id_of, send_all
from bot.telegram.render import render_outbox
from core.notify import delivery
from core.notify.background import TransientFailure

logger = logging.getLogger(__name__)
CHANNEL = "tg"
PERMANENT = (TelegramForbiddenError, TelegramNotFound, TelegramBadRequest)
TRANSIENT = (TelegramRetryAfter, TelegramNetworkError, TelegramServerError)


@dataclass
class OutboxDeliverer(delivery.ChannelDeliverer[int]):
    """Sends pending 'tg' outbox rows.

    deliver_once raises TransientFailure when Telegram is unreachable or rate-limits the bot
    even after the retries: the round stops, the row keeps its attempt budget, the caller backs
    off.
    """

    channel: ClassVar[str] = CHANNEL
    log: ClassVar[logging.Logger] = logger
    unaddressable_error: ClassVar[str] = "not a Telegram sender"
    unaddressable: ClassVar[str] = delivery.FAILED
    bot: Bot
    sessions: sessionmaker[Session]
    clock: Clock
    max_attempts: int = 10
    batch: int = 50

    def address_of(self, sender_id: str) -> int | None:
        return chat_id_of(sender_id)

    async def send(self, row: delivery.Delivery, address: int) -> str:
        try:
            await send_all(self.bot, address, render_outbox(row.kind, row.text, row.payload))
        except PERMANENT as exc:  # blocked, chat gone, message refused: retrying cannot help
            await self._fail(row, type(exc).__name__, give_up=True)
            return delivery.FAILED
        except TRANSIENT as exc:  # Telegram down or rate-limiting: not the row's fault
            await self._fail(row, type(exc).__name__, refund=True)
            raise TransientFailure(getattr(exc, "retry_after", None)) from exc
        except Exception as exc:  # anything else counts against the row's attempts
            await self._fail(row, type(exc).__name__)
            return delivery.FAILED
        return delivery.SENT
