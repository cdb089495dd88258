"""Integration API tokens (admins only): list, create (shown once), revoke. Audited."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.routes.console import common
from api.routes.console.common import Current, CurrentDep, PostDep
from core.staff import tokens

router = common.page_router()


async def _page(
    request: Request,
    current: Current,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = await common.db(request, tokens.list_tokens)
    return common.render(
        request,
        "tokens.html",
        current,
        status_code=status,
        tokens=rows,
        roles=tokens.ROLES,
        new_token=new_token,
        error=error,
    )


@router.get("/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """Every token with its role, creation, last use and state (never the token)."""
    common.require(current, "admin")
    return await _page(request, current)


@router.post("/tokens", response_class=HTMLResponse)
async def create_token(
    post: PostDep,
    name: Annotated[str, Form(min_length=1, max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "integration",
) -> HTMLResponse:
    """Create a token and show it once."""
    me = post.actor("admin")
    request, current = post.request, post.current
    if role not in tokens.ROLES or not name.strip():
        return await _page(
            request, current, error="名称不能为空，角色须为 integration 或 staff。", status=422
        )

    def work(session: Session) -> str:
        token = tokens.create_token(session, name.strip(), role)
        common.record(session, me.username, "create_token", name.strip(), role=role)
        return token

    return await _page(request, current, new_token=await common.db(request, work))


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(post: PostDep, token_id: int) -> Response:
    """Revoke a token: the next request with it gets 401."""
    me = post.actor("admin")

    def work(session: Session) -> None:
        token = tokens.revoke_token(session, token_id, dt.datetime.now(dt.UTC))
        common.record(session, me.username, "revoke_token", f"token:{token.id}", name=token.name)

    return await common.apply_change(
        post.request,
        work,
        "/console/tokens",
        ValueError,
        lambda _: _page(post.request, post.current, error="没有这个令牌。", status=404),
    )
