"""What staff insert into the reply box: KB answers found by text (BM25 over the live KB) and
saved replies (admins keep them here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
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
from core.handoff import saved_replies
from core.services import get_index, get_kb

router = page_router()
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
    require(current, "admin")
    return await _page(request, current)


async def _page(
    request: Request, current: Current, error: str | None = None, status: int = 200
) -> HTMLResponse:
    items = await db(request, saved_replies.list_saved_replies)
    return render(request, "replies.html", current, replies=items, error=error, status_code=status)


@router.post("/replies")
async def add_reply(
    request: Request,
    current: CurrentDep,
    title: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Add a saved reply."""
    me = form_actor(current, csrf_token, "admin")

    def work(session: Session) -> None:
        reply = saved_replies.add_saved_reply(session, title, text, me.username)
        record(session, me.username, "add_saved_reply", f"saved_reply:{reply.id}")

    return await apply_change(
        request,
        work,
        "/console/replies",
        saved_replies.SavedReplyError,
        lambda exc: _page(request, current, error=str(exc), status=422),
    )


@router.post("/replies/{reply_id}/delete")
async def delete_reply(
    request: Request, current: CurrentDep, reply_id: int, csrf_token: CsrfField = None
) -> Response:
    """Remove a saved reply."""
    me = form_actor(current, csrf_token, "admin")

    def work(session: Session) -> None:
        saved_replies.delete_saved_reply(session, reply_id)
        record(session, me.username, "delete_saved_reply", f"saved_reply:{reply_id}")

    return await apply_change(
        request,
        work,
        "/console/replies",
        saved_replies.SavedReplyError,
        lambda exc: _page(request, current, error=str(exc), status=404),
    )
