"""What every console page shares: the session (login required), roles, CSRF checks,
templates, security headers, database access off the event loop, the audit helper.

Sessions are server-side (core/staff/sessions.py; the cookie — HttpOnly, SameSite=Strict,
Secure in production — holds a random token) with idle and absolute expiry; only requests a
person made renew the idle time, not the pages' automatic live updates (`is_activity`). Every
form carries a CSRF token checked on POST; every staff action is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.orm import Session

from api.deps import app_state, get_app_settings
from api.routes.console import i18n
from core.db.engine import in_transaction
from core.db.utc import aware
from core.handoff import console
from core.staff import sessions as console_session
from core.staff import users as staff
from core.staff.audit import audit

ROOT = Path(__file__).resolve().parents[2]
SESSION_COOKIE = "qw_console"
LOGIN_CSRF_COOKIE = "qw_login_csrf"
CSRF_FAILED_ZH = "表单校验失败（缺少或无效的 CSRF 令牌），请刷新页面后重试。"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
T = TypeVar("T")
E = TypeVar("E", bound=Exception)


def page_router() -> APIRouter:
    """A router for one console page (all under /console, none in the OpenAPI schema)."""
    return APIRouter(prefix="/console", include_in_schema=False)


class AuthRequired(Exception):
    """No valid console session: the browser is sent to the login page."""


@dataclass(frozen=True)
class Current:
    """The logged-in staff member and their session."""

    staff: staff.Staff
    session: console_session.ActiveSession


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """Jinja2 templates (autoescape on for .html)."""
    env = Jinja2Templates(directory=str(ROOT / "templates"))
    env.env.filters["wait"] = _wait
    env.env.filters["wait_level"] = console.wait_level
    env.env.filters["local"] = _local_time
    env.env.filters["reason"] = console.reason_label
    env.env.filters["channel"] = console.channel_label
    env.env.globals["_"] = _translate
    return env


@pass_context
def _translate(context: Context, text: str) -> str:
    return i18n.translate(text, context.get("lang") or "zh")


@pass_context
def _wait(context: Context, seconds: int) -> str:
    return i18n.format_wait(seconds, context.get("lang") or "zh")


def _local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return aware(value).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def install(app: FastAPI) -> None:
    """Redirect to login when unauthenticated; security headers."""

    @app.exception_handler(AuthRequired)
    async def _login(_: Request, __: AuthRequired) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    @app.middleware("http")
    async def _console_headers(request: Request, call_next: Callable[..., Any]) -> Response:
        response: Response = await call_next(request)
        if request.url.path.startswith("/console"):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response


settings_of = get_app_settings  # Settings the app was created with


def secret_of(request: Request) -> str:
    """The key that signs console sessions."""
    return app_state(request, "console_secret", str)


def secure_cookies(request: Request) -> bool:
    """Whether cookies get the Secure flag (CONSOLE_COOKIE_SECURE, else production only)."""
    settings = settings_of(request)
    if settings.console_cookie_secure is not None:
        return settings.console_cookie_secure
    return settings.app_env == "production"


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    """Set the signed session cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings_of(request).console_session_max_s,
        path="/console",
        httponly=True,
        secure=secure_cookies(request),
        samesite="strict",
    )


async def db(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(session, *args)` in one transaction, off the event loop."""
    return await in_transaction(request.app.state.relay.sessions, fn, *args)


# Requests the pages make by themselves (console.js): they never renew a session's idle time.
AUTOMATIC_PATHS = ("/console/live", "/console/fragments/")


def is_activity(request: Request) -> bool:
    """Whether a person made this request (it renews the idle timeout): any form post, or a page
    they opened. Not the live fragments and the ticket list console.js polls, nor a page that
    reloads itself (browsers send `Sec-Fetch-User: ?1` only for navigations a user started)."""
    if request.method != "GET":
        return True
    if request.url.path.startswith(AUTOMATIC_PATHS) or request.headers.get("x-console-poll"):
        return False
    mode = request.headers.get("sec-fetch-mode")
    if mode is None:
        return True  # a client without fetch metadata: count what it asks for
    return mode == "navigate" and request.headers.get("sec-fetch-user") == "?1"


async def current_staff(request: Request) -> Current:
    """The logged-in, active staff member of a valid session; AuthRequired otherwise."""
    settings = settings_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    activity = is_activity(request)

    def resume(session: Session) -> tuple[console_session.ActiveSession, staff.Staff] | None:
        active = console_session.resume(
            session,
            token,
            dt.datetime.now(dt.UTC),
            settings.console_session_idle_s,
            activity=activity,
        )
        user = staff.load_staff(session, active.user_id) if active else None
        return (active, user) if active and user else None

    found = await db(request, resume) if token else None
    if found is None:
        raise AuthRequired
    return Current(found[1], found[0])


CurrentDep = Annotated[Current, Depends(current_staff)]
CsrfField = Annotated[str | None, Form()]
PasswordField = Annotated[str, Form(max_length=256)]


def require(current: Current, role: str) -> None:
    """403 unless the staff member has at least `role`."""
    if not current.staff.can(role):
        raise HTTPException(403, "您的角色无权执行此操作。")


def check_csrf(current: Current, token: str | None) -> None:
    """403 unless the form's token matches the session's."""
    if not console_session.tokens_match(current.session.csrf, token):
        raise HTTPException(403, CSRF_FAILED_ZH)


def form_actor(current: Current, csrf_token: str | None, role: str | None = None) -> staff.Staff:
    """The staff member behind a form post, after the role check (when `role` is given) and
    the CSRF check (403 on either)."""
    if role is not None:
        require(current, role)
    check_csrf(current, csrf_token)
    return current.staff


@dataclass(frozen=True)
class Post:
    """A console form post: the request, the logged-in staff member and the form's CSRF token.

    The token is checked by `actor`, in the route, so a form the route's own validation rejects
    still gets 422 first, as when each route took the token itself."""

    request: Request
    current: Current
    csrf_token: str | None

    def actor(self, role: str | None = None) -> staff.Staff:
        """The staff member behind the post, after the role check (when `role` is given) and
        the CSRF check (403 on either)."""
        return form_actor(self.current, self.csrf_token, role)


async def form_post(request: Request, current: CurrentDep, csrf_token: CsrfField = None) -> Post:
    """What every console form post starts from (a FastAPI dependency)."""
    return Post(request, current, csrf_token)


PostDep = Annotated[Post, Depends(form_post)]


async def apply_change(
    request: Request,
    work: Callable[[Session], T],
    done: str | Callable[[T], str],
    refused: type[E],
    error_page: Callable[[E], Response | Awaitable[Response]],
) -> Response:
    """Run a form's change in one transaction, then send the browser to `done` (a path, or
    one made from the change's result) with 303; a `refused` error shows `error_page(error)`
    instead."""
    try:
        result = await db(request, work)
    except refused as exc:
        page = error_page(exc)
        return page if isinstance(page, Response) else await page
    return RedirectResponse(done if isinstance(done, str) else done(result), status_code=303)


def render(
    request: Request,
    name: str,
    current: Current | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A console page; `csrf`, `me`, `lang` and `wait_target` are always available."""
    return templates().TemplateResponse(
        request,
        name,
        {
            "me": current.staff if current else None,
            "csrf": current.session.csrf if current else None,
            "lang": current.staff.lang if current else _browser_lang(request),
            "wait_target": settings_of(request).console_wait_target_s,
            **context,
        },
        status_code=status_code,
    )


def _browser_lang(request: Request) -> str:
    """Before login: English when the browser prefers it over Chinese."""
    accepted = request.headers.get("accept-language", "").lower()
    return "en" if accepted.startswith("en") else "zh"


def iso_date(value: str | None) -> dt.date | None:
    """A filter's date (YYYY-MM-DD); None when empty or not a date."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def t(current: Current | None, text: str) -> str:
    """A console message in the staff member's language (for errors raised in routes)."""
    return i18n.translate(text, current.staff.lang if current else "zh")


def record(session: Session, actor: str, action: str, target: str | None, **detail: Any) -> None:
    """Write one audit entry for a staff action (never message text)."""
    audit(session, actor, action, target, detail or None)
