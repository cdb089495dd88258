"""Prometheus endpoint and the request-metrics middleware of the api."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error
from core.metrics import HTTP_LATENCY, HTTP_REQUESTS

router = APIRouter()
LOOPBACK = {"127.0.0.1", "::1"}


class RequestMetrics:
    """Counts every HTTP request and times it, labelled by route template (not the raw path)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`;
    without it, only loopback clients may read it."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
            return error(401, "unauthorized", "需要有效的访问令牌。")
    elif (request.client.host if request.client else "") not in LOOPBACK:
        return error(403, "forbidden", "仅限本机访问。")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
