"""Handing a messaging platform's webhook request to the bot process that handles it (the api
and the bots never import each other): the body capped, then posted to the bot's private
endpoint; when the bot cannot take it the answer is 503, so the platform delivers it again."""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping

import httpx
from fastapi import HTTPException, Request

logger = logging.getLogger(__name__)


async def capped_body(request: Request, max_bytes: int) -> bytes:
    """The request's body; 413 when it is larger than `max_bytes`."""
    body = await request.body()
    if len(body) > max_bytes:
        raise HTTPException(413, "Payload Too Large")
    return body


async def forward(
    event: str,
    target: str,
    body: bytes,
    *,
    timeout_s: float,
    headers: Mapping[str, str],
    params: tuple[tuple[str, str], ...] = (),
    accepted: Container[int] = (200,),
) -> httpx.Response:
    """POST the body to the bot at `target`; its answer when the status is `accepted`, else (or
    when it cannot be reached) 503, logged as `event`."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            answer = await client.post(target, params=params, content=body, headers=headers)
    except httpx.HTTPError as exc:
        logger.warning(event, extra={"event": event, "error": type(exc).__name__})
        raise HTTPException(503, "Service Unavailable") from exc
    if answer.status_code not in accepted:
        logger.warning(event, extra={"event": event, "status": answer.status_code})
        raise HTTPException(503, "Service Unavailable")
    return answer
