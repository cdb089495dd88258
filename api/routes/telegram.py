"""Telegram webhook (TELEGRAM_MODE=webhook): checked here, handled by the bot process.

Telegram posts updates to `POST /telegram/webhook` with the secret from `setWebhook` in the
X-Telegram-Bot-Api-Secret-Token header. A missing or wrong secret gets 403. Accepted updates
are forwarded unchanged to the bot's private endpoint (TELEGRAM_WEBHOOK_LISTEN); when the bot
cannot take them the answer is 503, so Telegram delivers the update again later.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

import httpx
from fastapi import APIRouter, Header, HTTPException, Request, Response

from api.deps import SettingsDep

logger = logging.getLogger(__name__)
router = APIRouter()

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024
FORWARD_TIMEOUT_S = 10.0


@router.post(PATH, include_in_schema=False)
async def telegram_webhook(
    request: Request,
    settings: SettingsDep,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> Response:
    """Check the secret, then hand the update to the bot process."""
    expected = settings.telegram_webhook_secret
    if settings.telegram_mode != "webhook" or expected is None:
        raise HTTPException(404, "Not Found")
    if secret is None or not hmac.compare_digest(
        secret.encode(), expected.get_secret_value().encode()
    ):
        logger.warning("telegram_webhook_forbidden", extra={"event": "telegram_webhook_forbidden"})
        raise HTTPException(403, "Forbidden")
    body = await request.body()
    if len(body) > MAX_UPDATE_BYTES:
        raise HTTPException(413, "Payload Too Large")
    target = f"http://{settings.telegram_webhook_listen}{PATH}"
    try:
        async with httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S) as client:
            forwarded = await client.post(
                target,
                content=body,
                headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            )
    except httpx.HTTPError as exc:
        logger.warning(
            "telegram_forward_failed",
            extra={"event": "telegram_forward_failed", "error": type(exc).__name__},
        )
        raise HTTPException(503, "Service Unavailable") from exc
    if forwarded.status_code != 200:
        logger.warning(
            "telegram_forward_failed",
            extra={"event": "telegram_forward_failed", "status": forwarded.status_code},
        )
        raise HTTPException(503, "Service Unavailable")
    return Response(status_code=200)
