"""What staff insert into the reply box: KB answers found by text (BM25 over the live KB) and
saved replies (admins keep them here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from api.routes.console import common
from api.routes.console.common import Current, CurrentDep, Post, PostDep
from core.handoff import saved_replies
from core.services import get_index, get_kb

router = common.page_router()
MAX_HITS = 8


@router.get("/kb/search")
async def kb_search(current: CurrentDep, q: str = "", lang: str = "zh") -> JSONResponse:
    """KB answers for a text, best first: id, title, the answer as the citizen would read it."""
    kb, index = get_kb(), get_index()
    lang = "en" if lang == "en" else "zh"
    hits = index.search(q[:200], limit=MAX_HITS)
    results = []
    for hit in hits:
        entry = kb.get(hit.kb_id)
        if entry is None:
            continue
        title = (entry.title_en if lang == "en" and entry.title_en else entry.title) or hit.kb_id
        results.append({"kb_id": hit.kb_id, "title": title, "text": kb.answer(hit.kb_id, lang)})
    return JSONResponse({"results": results})


@router.get("/replies", response_class=HTMLResponse)
async def replies_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """Saved replies (admins add and delete them)."""
    common.require(current, "admin")
    return await _page(request, current)


async def _page(
    request: Request, current: Current, error: str | None = None, status: int = 200
) -> HTMLResponse:
    items = await common.db(request, saved_replies.list_saved_replies)
    return common.render(
        request, "replies.html", current, replies=items, error=error, status_code=status
    )


@router.post("/replies")
async def add_reply(
    post: PostDep,
    title: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Add a saved reply."""

    def change(session: Session, me: str) -> str:
        return f"saved_reply:{saved_replies.add_saved_reply(session, title, text, me).id}"

    return await _change(post, "add_saved_reply", change, 422)


@router.post("/replies/{reply_id}/delete")
async def delete_reply(post: PostDep, reply_id: int) -> Response:
    """Remove a saved reply."""

    def change(session: Session, _: str) -> str:
        saved_replies.delete_saved_reply(session, reply_id)
        return f"saved_reply:{reply_id}"

    return await _change(post, "delete_saved_reply", change, 404)


async def _change(
    post: Post, action: str, change: Callable[[Session, str], str], status: int
) -> Response:
    """Change the saved replies as an admin and audit it (on the target `change` returns, given
    the admin's name); a refused change shows the page again with why, with `status`."""
    me = post.actor("admin")

    def work(session: Session) -> None:
        common.record(session, me.username, action, change(session, me.username))

    return await common.apply_change(
        post.request,
        work,
        "/console/replies",
        saved_replies.SavedReplyError,
        lambda exc: _page(post.request, post.current, error=str(exc), status=status),
    )
