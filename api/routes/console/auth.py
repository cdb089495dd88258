"""Console login and logout (5 wrong passwords lock the account), and the stylesheet."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.routes.console.common import (
    CSRF_FAILED_ZH,
    LOGIN_CSRF_COOKIE,
    ROOT,
    SESSION_COOKIE,
    CsrfField,
    CurrentDep,
    check_csrf,
    db,
    page_router,
    record,
    render,
    secret_of,
    secure_cookies,
    set_session_cookie,
    settings_of,
)
from core.staff import sessions as console_session
from core.staff import users as staff

router = page_router()


@router.get("/static/console.css")
async def console_css() -> FileResponse:
    """The console's stylesheet (no inline styles, so the CSP can forbid them)."""
    return FileResponse(ROOT / "static" / "console.css", media_type="text/css")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    """The login form, with a fresh CSRF cookie."""
    return _login_form(request)


def _login_form(request: Request, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    token = console_session.new_csrf()
    response = render(
        request, "login.html", None, status_code=status_code, login_csrf=token, error=error
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/console",
        httponly=True,
        secure=secure_cookies(request),
        samesite="strict",
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Check credentials; lock the account after repeated failures."""
    if not console_session.tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise HTTPException(403, CSRF_FAILED_ZH)
    now = dt.datetime.now(dt.UTC)

    def attempt(session: Session) -> staff.Staff | str:
        try:
            user = staff.authenticate(session, username, password, now)
        except staff.AccountLocked:
            record(session, username[:64] or "-", "login_locked", None)
            return "locked"
        except staff.LoginFailed:
            record(session, username[:64] or "-", "login_failed", None)
            return "failed"
        record(session, user.username, "login", None)
        return user

    result = await db(request, attempt)
    if result == "locked":
        return _login_form(
            request, f"登录失败次数过多，账户已锁定 {staff.LOCK_MINUTES} 分钟，请稍后再试。", 429
        )
    if not isinstance(result, staff.Staff):
        return _login_form(request, "用户名或密码错误。", 401)
    issued = int(time.time())
    session = console_session.ConsoleSession(
        result.id,
        issued,
        issued + settings_of(request).console_session_idle_s,
        console_session.new_csrf(),
    )
    response = RedirectResponse("/console", status_code=303)
    set_session_cookie(request, response, console_session.encode(secret_of(request), session))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, current: CurrentDep, csrf_token: CsrfField = None) -> Response:
    """End the session."""
    check_csrf(current, csrf_token)
    await db(request, record, current.staff.username, "logout", None)
    request.state.refreshed_session = None
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response
