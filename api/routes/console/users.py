"""Console users: list, add, lift a lockout (admins only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.routes.console.common import (
    CsrfField,
    Current,
    CurrentDep,
    check_csrf,
    db,
    page_router,
    record,
    render,
    require,
)
from core.db.utc import aware
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
    users = await db(request, staff.list_users)
    return render(
        request,
        "users.html",
        current,
        status_code=status,
        users=users,
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
    require(current, "admin")
    check_csrf(current, csrf_token)
    me = current.staff

    def work(session: Session) -> None:
        staff.create_user(session, username, password, role)
        record(session, me.username, "create_user", username, role=role)

    try:
        await db(request, work)
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
        record(session, me.username, "unlock_user", user.username)

    try:
        await db(request, work)
    except staff.StaffError as exc:
        return await _users_page(request, current, error=str(exc), status=404)
    return RedirectResponse("/console/users", status_code=303)
