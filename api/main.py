"""FastAPI application: `uvicorn api.main:app` (or `create_app(settings)` in tests)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.limits import BodyLimit, install_access_log_redaction
from api.metrics import RequestMetrics
from api.metrics import router as metrics_router
from api.routes import cases, console, pages, telegram, wechat, widget
from api.security import install_security_headers
from core.conversation import widget_sessions
from core.conversation.relay import Relay, build_relay
from core.handoff.office_hours import OfficeHours
from core.retention.job import start_retention_job
from core.services import handoff_hours, title_en
from core.settings import Settings, get_settings, require_safe


def create_app(settings: Settings | None = None, relay: Relay | None = None) -> FastAPI:
    """Build the app; the relay (Rasa client + DB sessions) is created in the lifespan.

    With APP_ENV=production it refuses to build while a secret is missing or still the
    development value (core.settings.require_safe).
    """
    settings = settings or get_settings()
    require_safe(settings, "api")
    install_access_log_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        if relay is not None:
            app.state.relay = relay
            yield
            return
        # The emergency check warms up beside the start-up, not in the first citizen's request.
        built = build_relay(
            settings, handoff_hours=handoff_hours, title_en=title_en, hours=office_hours
        )
        app.state.relay = built
        purging = start_retention_job(settings)
        try:
            yield
        finally:
            if purging is not None:
                purging.cancel()
            await built.aclose()

    office_hours = OfficeHours.parse(
        settings.office_hours, settings.office_days, settings.office_timezone
    )
    app = FastAPI(title="侨务助手 Qiaowu Assistant API", version="0.1.0", lifespan=lifespan)
    app.state.office_hours = office_hours
    # Without CONSOLE_SECRET (development), console sessions last until the next restart.
    app.state.console_secret = (
        settings.console_secret.get_secret_value()
        if settings.console_secret
        else secrets.token_urlsafe(32)
    )
    app.state.widget_secret = (
        settings.widget_session_secret.get_secret_value()
        if settings.widget_session_secret
        else widget_sessions.derive_secret(app.state.console_secret)
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )
    app.add_middleware(RequestMetrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    errors.install(app)
    widget.install(app)
    install_security_headers(app)
    console.install(app)
    app.include_router(pages.router)
    app.include_router(metrics_router)
    app.include_router(widget.router)
    app.include_router(telegram.router)
    app.include_router(wechat.router)
    app.include_router(console.router)
    app.include_router(cases.router)
    cases.install_auth_errors(app)
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.main:app` builds the app on first access, not at import.
    if name == "app":
        return create_app()
    raise AttributeError(name)
