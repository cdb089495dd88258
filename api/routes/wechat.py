"""WeChat Official Account server endpoint (the URL set in the account's 服务器配置).

`GET /wechat` is WeChat's handshake: the signature (SHA1 of Token, timestamp, nonce) is checked
and `echostr` sent back. `POST /wechat` carries messages and events, plaintext or encrypted
(safe mode): the signature is checked here on every request (wrong or missing → 403), the body
capped, and the request forwarded unchanged to the WeChat bot's private endpoint
(WECHAT_LISTEN), which decrypts, deduplicates and answers within WeChat's five seconds; its
answer goes back to WeChat as is. When the bot cannot take it the answer is 503 and WeChat
retries. Unset WECHAT_TOKEN → 404. The api and the bot never import each other.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response

from api.deps import SettingsDep
from api.routes.forward import capped_body, forward
from core.hashing import wechat_signature_ok
from core.settings import Settings

logger = logging.getLogger(__name__)
router = APIRouter()

PATH = "/wechat"
MAX_BODY_BYTES = 64 * 1024
FORWARD_TIMEOUT_S = 4.9  # the bot answers within WECHAT_REPLY_DEADLINE_S (4.5 s)
PASSED_THROUGH = {200, 400, 403, 413}


def _check(request: Request, settings: Settings) -> None:
    if settings.wechat_token is None:
        raise HTTPException(404, "Not Found")
    params = request.query_params
    if not wechat_signature_ok(
        settings.wechat_token.get_secret_value(),
        params.get("signature"),
        params.get("timestamp"),
        params.get("nonce"),
    ):
        logger.warning("wechat_forbidden", extra={"event": "wechat_forbidden"})
        raise HTTPException(403, "Forbidden")


@router.get(PATH, include_in_schema=False)
async def wechat_handshake(request: Request, settings: SettingsDep) -> Response:
    """WeChat's server check: echo `echostr` when the signature is right."""
    _check(request, settings)
    echo = request.query_params.get("echostr")
    if not echo:
        raise HTTPException(400, "Bad Request")
    return Response(echo, media_type="text/plain")


@router.post(PATH, include_in_schema=False)
async def wechat_callback(request: Request, settings: SettingsDep) -> Response:
    """Check the signature, then let the WeChat bot process answer the message."""
    _check(request, settings)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise HTTPException(413, "Payload Too Large")
    answer = await forward(
        "wechat_forward_failed",
        f"http://{settings.wechat_listen}{PATH}",
        await capped_body(request, MAX_BODY_BYTES),
        timeout_s=FORWARD_TIMEOUT_S,
        headers={"Content-Type": request.headers.get("content-type", "text/xml")},
        params=tuple(request.query_params.multi_items()),
        accepted=PASSED_THROUGH,
    )
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "text/plain"),
    )
