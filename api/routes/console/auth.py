"""Console login and logout (5 wrong passwords lock the account), and the stylesheet."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.routes.console import common
from api.routes.console.common import CsrfField, CurrentDep, PasswordField, PostDep
from api.routes.widget import client_tag
from core.db.throttle import Budget, get_throttle
from core.staff import sessions as console_session
from core.staff import users as staff

router = common.page_router()


@router.get("/static/console.css")
async def console_css() -> FileResponse:
    """The console's stylesheet (no inline styles, so the CSP can forbid them)."""
    return FileResponse(common.ROOT / "static" / "console.css", media_type="text/css")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    """The login form, with a fresh CSRF cookie."""
    return _login_form(request)


def _login_form(request: Request, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    token = console_session.new_csrf()
    response = common.render(
        request, "login.html", None, status_code=status_code, login_csrf=token, error=error
    )
    response.set_cookie(
        common.LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/console",
        httponly=True,
        secure=common.secure_cookies(request),
        samesite="strict",
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: PasswordField = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Check credentials; lock the name after repeated failures, throttle the address."""
    if not console_session.tokens_match(request.cookies.get(common.LOGIN_CSRF_COOKIE), csrf_token):
        raise HTTPException(403, common.CSRF_FAILED_ZH)
    now = dt.datetime.now(dt.UTC)
    settings = common.settings_of(request)
    throttle = get_throttle(settings.redis_url)
    per_address = Budget(
        f"login:addr:{client_tag(request, settings)}",
        settings.login_address_max_failures,
        settings.login_address_window_s,
    )

    def attempt(session: Session) -> tuple[staff.Staff | str, str | None]:
        reservation = throttle.reserve(session, [per_address], now)
        if not reservation.ok:
            common.record(session, username[:64] or "-", "login_throttled", None)
            return "throttled", None
        try:
            user = staff.authenticate(session, username, password, now)
        except staff.AccountLocked:
            common.record(session, username[:64] or "-", "login_locked", None)
            return "locked", None
        except staff.LoginFailed:
            common.record(session, username[:64] or "-", "login_failed", None)
            return "failed", None
        throttle.release(session, reservation)
        token, _ = console_session.open_session(
            session, user.id, now, settings.console_session_max_s
        )
        common.record(session, user.username, "login", None)
        return user, token

    result, token = await common.db(request, attempt)
    if result == "throttled":
        return _login_form(request, "此网络地址的登录尝试过多，请稍后再试。", 429)
    if result == "locked":
        return _login_form(
            request, f"登录失败次数过多，账户已锁定 {staff.LOCK_MINUTES} 分钟，请稍后再试。", 429
        )
    if not isinstance(result, staff.Staff) or token is None:
        return _login_form(request, "用户名或密码错误。", 401)
    response = RedirectResponse("/console", status_code=303)
    common.set_session_cookie(request, response, token)
    response.delete_cookie(common.LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(post: PostDep) -> Response:
    """End the session (server-side: the cookie cannot be replayed)."""
    me = post.actor()

    def work(session: Session) -> None:
        console_session.revoke(session, post.current.session.id, dt.datetime.now(dt.UTC))
        common.record(session, me.username, "logout", None)

    await common.db(post.request, work)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(common.SESSION_COOKIE, path="/console")
    return response


@router.get("/password", response_class=HTMLResponse)
async def password_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """Change one's own password."""
    return common.render(request, "password.html", current, error=None, done=False)


@router.post("/password", response_class=HTMLResponse)
async def change_password(
    post: PostDep,
    old_password: PasswordField = "",
    new_password: PasswordField = "",
    repeat_password: PasswordField = "",
) -> HTMLResponse:
    """Check the current password, set the new one, end every other session of this user."""
    me = post.actor()
    request, current = post.request, post.current
    if new_password != repeat_password:
        return common.render(
            request, "password.html", current, 422, error="两次输入的新密码不一致。"
        )

    def work(session: Session) -> str | None:
        try:
            staff.change_password(
                session,
                me.id,
                old_password,
                new_password,
                dt.datetime.now(dt.UTC),
                keep=current.session.id,
            )
        except staff.StaffError as exc:
            return str(exc)
        common.record(session, me.username, "change_password", f"user:{me.username}")
        return None

    problem = await common.db(request, work)
    if problem is not None:
        return common.render(request, "password.html", current, 422, error=problem)
    return common.render(request, "password.html", current, error=None, done=True)
