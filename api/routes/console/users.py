"""Console users (admins only): list, add, change roles, deactivate or reactivate, reset a
password, sign out everywhere, lift a lockout. Every change is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.routes.console import common
from api.routes.console.common import Current, CurrentDep, PasswordField, Post, PostDep
from core.db.models import StaffUser
from core.db.utc import aware
from core.staff import store as staff_store
from core.staff import users as staff

router = common.page_router()
Change = Callable[[Session, dt.datetime], Any]  # one change to a user at a time; returns the user


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """Console users (admins only)."""
    common.require(current, "admin")
    return await _users_page(request, current)


async def _users_page(
    request: Request, current: Current, error: str | None = None, status: int = 200
) -> HTMLResponse:
    def load(session: Session) -> tuple[list[Any], dict[int, int]]:
        return staff.list_users(session), staff_store.open_session_counts(
            session, dt.datetime.now(dt.UTC)
        )

    users, session_counts = await common.db(request, load)
    return common.render(
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
    post: PostDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: PasswordField = "",
    role: Annotated[str, Form(max_length=16)] = "agent",
) -> Response:
    """Add a console user."""
    return await _manage(
        post, "create_user", lambda s, _: staff.create_user(s, username, password, role), role=role
    )


@router.post("/users/{user_id}/unlock")
async def unlock_user(post: PostDep, user_id: int) -> Response:
    """Clear a login lockout."""
    return await _manage(
        post, "unlock_user", lambda s, _: staff.unlock_user(s, user_id), status=404
    )


async def _manage(
    post: Post, action: str, change: Change, status: int = 422, **detail: Any
) -> Response:
    """Run one user-management change as an admin and audit it (the target's name); a refused
    change shows the page again with why, with `status`."""
    me = post.actor("admin")

    def work(session: Session) -> None:
        user = change(session, dt.datetime.now(dt.UTC))
        common.record(session, me.username, action, user.username, **detail)

    return await common.apply_change(
        post.request,
        work,
        "/console/users",
        staff.StaffError,
        lambda exc: _users_page(post.request, post.current, error=str(exc), status=status),
    )


@router.post("/users/{user_id}/role")
async def change_role(
    post: PostDep, user_id: int, role: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """Give a user another role."""
    by = post.current.staff.id
    return await _manage(
        post, "change_role", lambda s, _: staff.set_role(s, user_id, role, by=by), role=role
    )


async def _set_active(post: Post, user_id: int, active: bool) -> Response:
    """Deactivate (their sessions end at once) or reactivate a user."""
    by = post.current.staff.id
    return await _manage(
        post,
        "activate_user" if active else "deactivate_user",
        lambda s, now: staff.set_active(s, user_id, active, now, by=by),
    )


@router.post("/users/{user_id}/deactivate")
async def deactivate(post: PostDep, user_id: int) -> Response:
    """Deactivate a user: their sessions end at once."""
    return await _set_active(post, user_id, False)


@router.post("/users/{user_id}/activate")
async def activate(post: PostDep, user_id: int) -> Response:
    """Let a deactivated user log in again."""
    return await _set_active(post, user_id, True)


@router.post("/users/{user_id}/password")
async def reset_password(post: PostDep, user_id: int, password: PasswordField = "") -> Response:
    """Set a new password for a user; their sessions end."""
    return await _manage(
        post, "reset_password", lambda s, now: staff.reset_password(s, user_id, password, now)
    )


@router.post("/users/{user_id}/signout")
async def sign_out_everywhere(post: PostDep, user_id: int) -> Response:
    """End every session of a user (a lost laptop, a shared browser)."""

    def change(session: Session, now: dt.datetime) -> Any:
        staff.sign_out_everywhere(session, user_id, now)
        return session.get(StaffUser, user_id)

    return await _manage(post, "sign_out_everywhere", change)
