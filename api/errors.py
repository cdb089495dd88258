"""JSON errors for every failure; never a stack trace to the client."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import request_lang
from core.conversation.relay import MessageRejected, ServiceUnavailable
from core.logs import redact_path
from core.texts import t

logger = logging.getLogger(__name__)


class OurHTTPError(StarletteHTTPException):
    """An HTTP error whose detail is a catalogue text for the citizen (shown as it is)."""


def error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    """The one error shape: {"error": {"code", "message", ...}}."""
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, **extra}}
    )


def install(app: FastAPI) -> None:
    """Register the handlers."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = request_lang(request)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error(400, "invalid_json", t("api.invalid_json", lang))
        fields = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "problem": e.get("msg", ""),
            }
            for e in errors
        ]
        return error(422, "invalid_request", t("api.invalid_request", lang), fields=fields)

    @app.exception_handler(MessageRejected)
    async def _rejected(_: Request, exc: MessageRejected) -> JSONResponse:
        status = 413 if exc.code == "too_long" else 422
        return error(status, exc.code, exc.message)

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, __: ServiceUnavailable) -> JSONResponse:
        return error(503, "unavailable", t("api.not_delivered", request_lang(request)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        lang = request_lang(request)
        messages = {
            400: t("api.bad_request", lang),
            404: t("api.not_found", lang),
            405: t("api.method_not_allowed", lang),
        }
        detail = str(exc.detail)
        # Framework texts ("There was an error parsing the body") are not shown; ours are ours.
        ours = isinstance(exc, OurHTTPError) or re.search(r"[\u4e00-\u9fff]", detail)
        fallback = detail if ours else t("api.cannot_process", lang)
        return error(
            exc.status_code,
            f"http_{exc.status_code}",
            messages.get(exc.status_code, fallback),
        )

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, _: OperationalError) -> JSONResponse:
        logger.error(
            "database_unavailable",
            extra={"event": "database_unavailable", "path": redact_path(request.url.path)},
        )
        return error(
            503, "database_unavailable", t("api.database_unavailable", request_lang(request))
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception(
            "unhandled_error",
            extra={"event": "unhandled_error", "path": redact_path(request.url.path)},
        )
        return error(500, "internal", t("api.internal", request_lang(request)))
