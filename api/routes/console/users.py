"""Console users (admins only): list, add, change roles, deactivate or reactivate, reset a
password, sign out everywhere, lift a lockout. Every change is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.routes.console.common import (
    CsrfField,
    Current,
    CurrentDep,
    apply_change,
    db,
    form_actor,
    page_router,
    record,
    render,
    require,
)
from core.db.models import StaffUser
from core.db.utc import aware
from core.staff import store as staff_store
from core.staff import users as staff

router = page_router()


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """Console users (admins only)."""
    require(current, "admin")
    return await _users_page(request, current)


async def _users_page(
    request: Request, current: Current, error: str | None = None, status: int = 200
) -> HTMLResponse:
    def load(session: Session) -> tuple[list[Any], dict[int, int]]:
        return staff.list_users(session), staff_store.open_session_counts(
            session, dt.datetime.now(dt.UTC)
        )

    users, session_counts = await db(request, load)
    return render(
        request,
        "users.html",
        current,
        status_code=status,
        users=users,
        session_counts=session_counts,
        roles=staff.ROLES,
        error=error,
        now=dt.datetime.now(dt.UTC),
        aware=aware,
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
    return await _manage(
        request,
        current,
        csrf_token,
        "create_user",
        lambda s, _: staff.create_user(s, username, password, role),
        role=role,
    )


@router.post("/users/{user_id}/unlock")
async def unlock_user(
    request: Request, current: CurrentDep, user_id: int, csrf_token: CsrfField = None
) -> Response:
    """Clear a login lockout."""
    return await _manage(
        request,
        current,
        csrf_token,
        "unlock_user",
        lambda s, _: staff.unlock_user(s, user_id),
        status=404,
    )


async def _manage(
    request: Request,
    current: Current,
    csrf_token: str | None,
    action: str,
    change: Callable[[Session, dt.datetime], Any],
    status: int = 422,
    **detail: Any,
) -> Response:
    """Run one user-management change as an admin and audit it (the target's name); a refused
    change shows the page again with why, with `status`."""
    me = form_actor(current, csrf_token, "admin")

    def work(session: Session) -> None:
        user = change(session, dt.datetime.now(dt.UTC))
        record(session, me.username, action, user.username, **detail)

    return await apply_change(
        request,
        work,
        "/console/users",
        staff.StaffError,
        lambda exc: _users_page(request, current, error=str(exc), status=status),
    )


@router.post("/users/{user_id}/role")
async def change_role(
    request: Request,
    current: CurrentDep,
    user_id: int,
    role: Annotated[str, Form(max_length=16)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Give a user another role."""
    return await _manage(
        request,
        current,
        csrf_token,
        "change_role",
        lambda s, _: staff.set_role(s, user_id, role, by=current.staff.id),
        role=role,
    )


@router.post("/users/{user_id}/deactivate")
async def deactivate(
    request: Request, current: CurrentDep, user_id: int, csrf_token: CsrfField = None
) -> Response:
    """Deactivate a user: their sessions end at once."""
    return await _manage(
        request,
        current,
        csrf_token,
        "deactivate_user",
        lambda s, now: staff.set_active(s, user_id, False, now, by=current.staff.id),
    )


@router.post("/users/{user_id}/activate")
async def activate(
    request: Request, current: CurrentDep, user_id: int, csrf_token: CsrfField = None
) -> Response:
    """Let a deactivated user log in again."""
    return await _manage(
        request,
        current,
        csrf_token,
        "activate_user",
        lambda s, now: staff.set_active(s, user_id, True, now, by=current.staff.id),
    )


@router.post("/users/{user_id}/password")
async def reset_password(
    request: Request,
    current: CurrentDep,
    user_id: int,
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Set a new password for a user; their sessions end."""
    return await _manage(
        request,
        current,
        csrf_token,
        "reset_password",
        lambda s, now: staff.reset_password(s, user_id, password, now),
    )


@router.post("/users/{user_id}/signout")
async def sign_out_everywhere(
    request: Request, current: CurrentDep, user_id: int, csrf_token: CsrfField = None
) -> Response:
    """End every session of a user (a lost laptop, a shared browser)."""

    def change(session: Session, now: dt.datetime) -> Any:
        staff.sign_out_everywhere(session, user_id, now)
        return session.get(StaffUser, user_id)

    return await _manage(request, current, csrf_token, "sign_out_everywhere", change)
