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

from fastapi import APIRouter, Header, HTTPException, Request, Response

from api.deps import SettingsDep
from api.routes.forward import capped_body, forward

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
    body = await capped_body(request, MAX_UPDATE_BYTES)
    await forward(
        "telegram_forward_failed",
        f"http://{settings.telegram_webhook_listen}{PATH}",
        body,
        timeout_s=FORWARD_TIMEOUT_S,
        headers={"Content-Type": "application/json", SECRET_HEADER: secret},
    )
    return Response(status_code=200)
