"""Staff console (/console): login, ticket queue, claim / reply / note / close, audit, users.

Server-rendered (Jinja2, autoescaped). Sessions are HMAC-signed cookies (HttpOnly,
SameSite=Strict, Secure in production) with idle and absolute expiry; every form carries a CSRF
token checked on POST; every staff action is written to the audit log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from core import analytics, console, console_session, handoff, staff
from core import console_drafts as drafts
from core.db.engine import session_scope
from core.db.models import KbDraft
from core.kb.schema import TOPICS
from core.rasa_client import RasaUnavailable
from core.settings import Settings

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)
ROOT = Path(__file__).resolve().parents[1]
SESSION_COOKIE = "qw_console"
LOGIN_CSRF_COOKIE = "qw_login_csrf"
CSRF_FAILED_ZH = "表单校验失败（缺少或无效的 CSRF 令牌），请刷新页面后重试。"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
T = TypeVar("T")


class AuthRequired(Exception):
    """No valid console session: the browser is sent to the login page."""


@dataclass(frozen=True)
class Current:
    """The logged-in staff member and their session."""

    staff: staff.Staff
    session: console_session.ConsoleSession


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """Jinja2 templates (autoescape on for .html)."""
    env = Jinja2Templates(directory=str(ROOT / "templates"))
    env.env.filters["wait"] = console.format_wait
    env.env.filters["local"] = _local_time
    env.env.filters["reason"] = console.reason_label
    return env


def _local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return (
        console.aware(value)
        .astimezone(dt.timezone(dt.timedelta(hours=8)))
        .strftime("%Y-%m-%d %H:%M")
    )


def install(app: FastAPI) -> None:
    """Redirect to login when unauthenticated; security headers and session refresh."""

    @app.exception_handler(AuthRequired)
    async def _login(_: Request, __: AuthRequired) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    @app.middleware("http")
    async def _console_headers(request: Request, call_next: Callable[..., Any]) -> Response:
        response: Response = await call_next(request)
        if request.url.path.startswith("/console"):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            refreshed = getattr(request.state, "refreshed_session", None)
            if refreshed is not None and "set-cookie" not in response.headers:
                _set_session_cookie(request, response, refreshed)
        return response


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _secret(request: Request) -> str:
    return request.app.state.console_secret  # type: ignore[no-any-return]


def _secure(request: Request) -> bool:
    settings = _settings(request)
    if settings.console_cookie_secure is not None:
        return settings.console_cookie_secure
    return settings.app_env == "production"


def _set_session_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=_settings(request).console_session_max_s,
        path="/console",
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )


async def _db(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(session, *args)` in one transaction, off the event loop."""
    sessions = request.app.state.relay.sessions

    def work() -> T:
        with session_scope(sessions) as session:
            return fn(session, *args)

    return await asyncio.to_thread(work)


async def current_staff(request: Request) -> Current:
    """The logged-in, active staff member; AuthRequired otherwise. Refreshes idle expiry."""
    now = int(time.time())
    settings = _settings(request)
    session = console_session.decode(
        _secret(request),
        request.cookies.get(SESSION_COOKIE),
        now,
        settings.console_session_max_s,
    )
    if session is None:
        raise AuthRequired
    user = await _db(request, staff.load_staff, session.user_id)
    if user is None:
        raise AuthRequired
    refreshed = console_session.ConsoleSession(
        session.user_id, session.issued_at, now + settings.console_session_idle_s, session.csrf
    )
    request.state.refreshed_session = console_session.encode(_secret(request), refreshed)
    return Current(user, session)


CurrentDep = Annotated[Current, Depends(current_staff)]
CsrfField = Annotated[str | None, Form()]


def require(current: Current, role: str) -> None:
    """403 unless the staff member has at least `role`."""
    if not current.staff.can(role):
        raise HTTPException(403, "您的角色无权执行此操作。")


def check_csrf(current: Current, token: str | None) -> None:
    """403 unless the form's token matches the session's."""
    if not console_session.tokens_match(current.session.csrf, token):
        raise HTTPException(403, CSRF_FAILED_ZH)


def render(
    request: Request,
    name: str,
    current: Current | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A console page; `csrf` and `me` are always available to the template."""
    return templates().TemplateResponse(
        request,
        name,
        {
            "me": current.staff if current else None,
            "csrf": current.session.csrf if current else None,
            **context,
        },
        status_code=status_code,
    )


def _audit(session: Session, actor: str, action: str, target: str | None, **detail: Any) -> None:
    staff.audit(session, actor, action, target, detail or None)


# --- login / logout ------------------------------------------------------------------------


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
        secure=_secure(request),
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
            _audit(session, username[:64] or "-", "login_locked", None)
            return "locked"
        except staff.LoginFailed:
            _audit(session, username[:64] or "-", "login_failed", None)
            return "failed"
        _audit(session, user.username, "login", None)
        return user

    result = await _db(request, attempt)
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
        issued + _settings(request).console_session_idle_s,
        console_session.new_csrf(),
    )
    response = RedirectResponse("/console", status_code=303)
    _set_session_cookie(request, response, console_session.encode(_secret(request), session))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, current: CurrentDep, csrf_token: CsrfField = None) -> Response:
    """End the session."""
    check_csrf(current, csrf_token)
    await _db(request, _audit, current.staff.username, "logout", None)
    request.state.refreshed_session = None
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


# --- queue and tickets ---------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def queue(request: Request, current: CurrentDep) -> HTMLResponse:
    """Open tickets (emergencies first) and recently closed ones."""
    now = dt.datetime.now(dt.UTC)
    items = await _db(request, console.list_queue, now)
    closed = await _db(request, console.recently_closed, 20)
    hours = request.app.state.office_hours
    return render(
        request,
        "queue.html",
        current,
        items=items,
        closed=closed,
        hours=hours.describe(),
        office_open=hours.is_open(now),
    )


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, current: CurrentDep, ticket_id: int) -> HTMLResponse:
    """One ticket: the conversation so far (bot tracker + ticket messages) and the actions."""
    return await _ticket_page(request, current, ticket_id)


async def _ticket_page(
    request: Request, current: Current, ticket_id: int, error: str | None = None, status: int = 200
) -> HTMLResponse:
    ticket = await _db(request, console.load_ticket, ticket_id)
    if ticket is None:
        raise HTTPException(404, "工单不存在。")
    tracker_error = None
    try:
        events = await request.app.state.relay.rasa.tracker_events(ticket.sender_id)
    except RasaUnavailable:
        events, tracker_error = [], "暂时无法读取与机器人的对话记录（Rasa 不可用）。"
    items = console.merge(
        console.tracker_items(events), console.ticket_items(ticket.messages, notes=True)
    )
    return render(
        request,
        "ticket.html",
        current,
        status_code=status,
        ticket=ticket,
        items=items,
        error=error,
        tracker_error=tracker_error,
        waiting_s=int((dt.datetime.now(dt.UTC) - console.aware(ticket.created_at)).total_seconds()),
    )


async def _ticket_action(
    request: Request, current: Current, ticket_id: int, fn: Callable[[Session], Any]
) -> Response:
    try:
        await _db(request, fn)
    except handoff.TicketError as exc:
        return await _ticket_page(request, current, ticket_id, error=str(exc), status=409)
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/claim")
async def claim(
    request: Request, current: CurrentDep, ticket_id: int, csrf_token: CsrfField = None
) -> Response:
    """Take the ticket."""
    check_csrf(current, csrf_token)
    me = current.staff

    def work(session: Session) -> None:
        handoff.claim_ticket(session, ticket_id, me.username, dt.datetime.now(dt.UTC))
        _audit(session, me.username, "claim_ticket", f"ticket:{ticket_id}")

    return await _ticket_action(request, current, ticket_id, work)


@router.post("/tickets/{ticket_id}/reply")
async def reply(
    request: Request,
    current: CurrentDep,
    ticket_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Reply to the citizen (through the outbox of the ticket's channel)."""
    check_csrf(current, csrf_token)
    me = current.staff

    def work(session: Session) -> None:
        message = handoff.reply_to_ticket(session, ticket_id, me.id, me.username, text)
        _audit(session, me.username, "reply", f"ticket:{ticket_id}", message=message.id)

    return await _ticket_action(request, current, ticket_id, work)


@router.post("/tickets/{ticket_id}/note")
async def note(
    request: Request,
    current: CurrentDep,
    ticket_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Internal note (never sent to the citizen)."""
    check_csrf(current, csrf_token)
    me = current.staff

    def work(session: Session) -> None:
        message = handoff.add_note(session, ticket_id, me.id, text)
        _audit(session, me.username, "note", f"ticket:{ticket_id}", message=message.id)

    return await _ticket_action(request, current, ticket_id, work)


@router.post("/tickets/{ticket_id}/close")
async def close(
    request: Request, current: CurrentDep, ticket_id: int, csrf_token: CsrfField = None
) -> Response:
    """Resume the bot for the citizen, then close the ticket."""
    check_csrf(current, csrf_token)
    me = current.staff
    try:
        ticket = await _db(request, handoff.get_open_ticket, ticket_id)
    except handoff.TicketError as exc:
        return await _ticket_page(request, current, ticket_id, error=str(exc), status=409)
    try:
        await request.app.state.relay.rasa.resume(ticket.sender_id)
    except RasaUnavailable:
        logger.warning("resume_failed", extra={"event": "resume_failed", "ticket": ticket_id})
        return await _ticket_page(
            request,
            current,
            ticket_id,
            error="机器人服务暂时不可用，无法恢复自动答复；工单保持打开，请稍后再关闭。",
            status=503,
        )

    def work(session: Session) -> None:
        handoff.close_open_ticket(session, ticket_id, dt.datetime.now(dt.UTC))
        _audit(session, me.username, "close_ticket", f"ticket:{ticket_id}")

    return await _ticket_action(request, current, ticket_id, work)


# --- admin: audit log and users ------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """The newest staff actions (admins only)."""
    require(current, "admin")
    entries = await _db(request, staff.recent_audit, 300)
    return render(request, "audit.html", current, entries=entries)


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """Console users (admins only)."""
    require(current, "admin")
    return await _users_page(request, current)


async def _users_page(
    request: Request, current: Current, error: str | None = None, status: int = 200
) -> HTMLResponse:
    users = await _db(request, staff.list_users)
    return render(
        request,
        "users.html",
        current,
        status_code=status,
        users=users,
        roles=staff.ROLES,
        error=error,
        now=dt.datetime.now(dt.UTC),
        aware=console.aware,
    )


@router.post("/users")
async def create_user(
    request: Request,
    current: CurrentDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    role: Annotated[str, Form(max_length=16)] = "agent",
    csrf_token: CsrfField = None,
) -> Response:
    """Add a console user."""
    require(current, "admin")
    check_csrf(current, csrf_token)
    me = current.staff

    def work(session: Session) -> None:
        staff.create_user(session, username, password, role)
        _audit(session, me.username, "create_user", username, role=role)

    try:
        await _db(request, work)
    except staff.StaffError as exc:
        return await _users_page(request, current, error=str(exc), status=422)
    return RedirectResponse("/console/users", status_code=303)


@router.post("/users/{user_id}/unlock")
async def unlock_user(
    request: Request, current: CurrentDep, user_id: int, csrf_token: CsrfField = None
) -> Response:
    """Clear a login lockout."""
    require(current, "admin")
    check_csrf(current, csrf_token)
    me = current.staff

    def work(session: Session) -> None:
        user = staff.unlock_user(session, user_id)
        _audit(session, me.username, "unlock_user", user.username)

    try:
        await _db(request, work)
    except staff.StaffError as exc:
        return await _users_page(request, current, error=str(exc), status=404)
    return RedirectResponse("/console/users", status_code=303)


# --- analytics -----------------------------------------------------------------------------


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(request: Request, current: CurrentDep, days: int = 14) -> HTMLResponse:
    """Charts of the last `days` days (7–90), drawn as server-side SVG."""
    days = min(max(days, 7), 90)
    tz = request.app.state.office_hours.tz
    data = await _db(request, analytics.summary, dt.datetime.now(dt.UTC), tz, days)
    labels = [d.strftime("%m-%d") for d in data.days]
    return render(
        request,
        "analytics.html",
        current,
        data=data,
        days=days,
        per_day=analytics.bars(labels, [float(v) for v in data.conversations]),
        handoffs_per_day=analytics.bars(labels, [float(v) for v in data.handoffs]),
        rates=analytics.hbars(
            [label for label, _, _ in data.rates],
            [share * 100 for _, _, share in data.rates],
            value_format="{:.0f}%",
        ),
        topics=analytics.hbars([t for t, _ in data.topics], [float(n) for _, n in data.topics]),
        unanswered=analytics.hbars(
            [t for t, _ in data.unanswered], [float(n) for _, n in data.unanswered]
        ),
        label_every=max(1, days // 14),
    )


# --- KB drafts (editors) -------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/draft")
async def draft_from_ticket(
    request: Request, current: CurrentDep, ticket_id: int, csrf_token: CsrfField = None
) -> Response:
    """Start a KB draft from a resolved ticket."""
    require(current, "editor")
    check_csrf(current, csrf_token)
    me = current.staff

    def work(session: Session) -> int:
        draft = drafts.draft_from_ticket(session, ticket_id, me.username)
        _audit(session, me.username, "create_kb_draft", f"draft:{draft.id}", ticket=ticket_id)
        return draft.id

    try:
        draft_id = await _db(request, work)
    except drafts.DraftError as exc:
        return await _ticket_page(request, current, ticket_id, error=str(exc), status=409)
    return RedirectResponse(f"/console/drafts/{draft_id}", status_code=303)


@router.get("/drafts", response_class=HTMLResponse)
async def drafts_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """All KB drafts."""
    require(current, "editor")
    return render(request, "drafts.html", current, drafts=await _db(request, drafts.list_drafts))


async def _draft_page(
    request: Request, current: Current, draft_id: int, problems: list[str] | None = None
) -> HTMLResponse:
    draft = await _db(request, lambda s: s.get(KbDraft, draft_id))
    if draft is None:
        raise HTTPException(404, "草稿不存在。")
    return render(
        request,
        "draft.html",
        current,
        status_code=422 if problems else 200,
        draft=draft,
        topics=TOPICS,
        sources_text=drafts.format_sources(draft.sources or []),
        problems=problems or [],
    )


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
async def draft_page(request: Request, current: CurrentDep, draft_id: int) -> HTMLResponse:
    """Edit, approve or reject one draft."""
    require(current, "editor")
    return await _draft_page(request, current, draft_id)


@router.post("/drafts/{draft_id}")
async def save_draft(
    request: Request,
    current: CurrentDep,
    draft_id: int,
    kb_id: Annotated[str, Form(max_length=64)] = "",
    topic: Annotated[str, Form(max_length=32)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    questions: Annotated[str, Form(max_length=10000)] = "",
    answer: Annotated[str, Form(max_length=10000)] = "",
    sources: Annotated[str, Form(max_length=5000)] = "",
    action: Annotated[str, Form(max_length=16)] = "save",
    csrf_token: CsrfField = None,
) -> Response:
    """Save the form; with action=approve also validate and write the entry to kb/."""
    require(current, "editor")
    check_csrf(current, csrf_token)
    me = current.staff
    fields = drafts.DraftFields(
        kb_id, topic, title, questions.splitlines(), answer, drafts.parse_sources(sources)
    )
    kb_dir = _settings(request).kb_dir

    def work(session: Session) -> None:
        drafts.update_draft(session, draft_id, fields)
        _audit(session, me.username, "save_kb_draft", f"draft:{draft_id}")

    def approve(session: Session) -> None:
        path = drafts.approve_draft(session, draft_id, kb_dir, me.username, dt.date.today())
        _audit(session, me.username, "approve_kb_draft", f"draft:{draft_id}", file=path.name)

    def reject(session: Session) -> None:
        drafts.reject_draft(session, draft_id)
        _audit(session, me.username, "reject_kb_draft", f"draft:{draft_id}")

    try:
        if action == "reject":
            await _db(request, reject)
        else:
            await _db(request, work)
            if action == "approve":
                await _db(request, approve)
    except drafts.DraftError as exc:
        return await _draft_page(request, current, draft_id, exc.problems)
    return RedirectResponse(f"/console/drafts/{draft_id}", status_code=303)
