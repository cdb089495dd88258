"""Bot API calls retried on Telegram 429 (RetryAfter), server and network errors, with back-off."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates

from core.conversation.retry import backoff_s, wait_for_retry_after

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod
    from aiogram.methods.base import TelegramType

logger = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    """Retry a call up to `retries` times.

    429: wait exactly what Telegram asks (`retry_after`), unless that is longer than
    `max_wait_s` — then give up, so one chat cannot stall the process (the outbox retries
    later). 5xx and network errors: exponential back-off from `base_delay_s`. getUpdates is
    left to aiogram's own polling back-off. A network error after the request reached
    Telegram can in rare cases cause a duplicate message; that is preferred to losing one.
    """

    def __init__(
        self,
        retries: int = 4,
        *,
        base_delay_s: float = 0.5,
        max_wait_s: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ):
        self.retries = retries
        self.base_delay_s = base_delay_s
        self.max_wait_s = max_wait_s
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        polling = isinstance(method, GetUpdates)  # a bool: no narrowing of `method`'s type
        if polling:
            return await make_request(bot, method)
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                delay = float(exc.retry_after)
                if not wait_for_retry_after(delay, attempt, self.retries, self.max_wait_s):
                    raise
                error = "retry_after"
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempt >= self.retries:
                    raise
                delay = backoff_s(attempt, self.base_delay_s, self.max_wait_s)
                error = type(exc).__name__
            attempt += 1
            logger.warning(
                "telegram_retry",
                extra={"event": "telegram_retry", "error": error, "count": attempt},
            )
            await self.sleep(delay)
