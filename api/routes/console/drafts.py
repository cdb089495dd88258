"""KB drafts (editors): from a resolved ticket, edit, approve into kb/ or reject."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
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
    settings_of,
)
from api.routes.console.tickets import ticket_view
from core.kb import drafts
from core.kb.topics import TOPICS

router = page_router()


@router.post("/tickets/{ticket_id}/draft")
async def draft_from_ticket(
    request: Request, current: CurrentDep, ticket_id: int, csrf_token: CsrfField = None
) -> Response:
    """Start a KB draft from a resolved ticket."""
    me = form_actor(current, csrf_token, "editor")

    def work(session: Session) -> int:
        draft = drafts.draft_from_ticket(session, ticket_id, me.username)
        record(session, me.username, "create_kb_draft", f"draft:{draft.id}", ticket=ticket_id)
        return draft.id

    return await apply_change(
        request,
        work,
        lambda draft_id: f"/console/drafts/{draft_id}",
        drafts.DraftError,
        lambda exc: ticket_view(request, current, ticket_id, error=str(exc), status=409),
    )


@router.get("/drafts", response_class=HTMLResponse)
async def drafts_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """All KB drafts."""
    require(current, "editor")
    return render(request, "drafts.html", current, drafts=await db(request, drafts.list_drafts))


def draft_error_page(request: Request, current: Current, problems: list[str]) -> HTMLResponse:
    """The drafts list with why a draft could not be started (409)."""
    return render(request, "drafts.html", current, status_code=409, drafts=[], problems=problems)


async def _draft_page(
    request: Request,
    current: Current,
    draft_id: int,
    problems: list[str] | None = None,
    sources_text: str | None = None,
) -> HTMLResponse:
    """The draft form; after a refused save, `sources_text` keeps what the editor typed."""
    draft = await db(request, drafts.find_draft, draft_id)
    if draft is None:
        raise HTTPException(404, "草稿不存在。")
    return render(
        request,
        "draft.html",
        current,
        status_code=422 if problems else 200,
        draft=draft,
        topics=TOPICS,
        sources_text=(
            drafts.format_sources(draft.sources or []) if sources_text is None else sources_text
        ),
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
    me = form_actor(current, csrf_token, "editor")
    fields = drafts.DraftFields(
        kb_id, topic, title, questions.splitlines(), answer, drafts.parse_sources(sources)
    )
    kb_dir = settings_of(request).kb_dir

    def work(session: Session) -> None:
        drafts.update_draft(session, draft_id, fields, drafts.load_source_policy(kb_dir))
        record(session, me.username, "save_kb_draft", f"draft:{draft_id}")

    def approve(session: Session) -> None:
        path = drafts.approve_draft(session, draft_id, kb_dir, me.username, dt.date.today())
        record(session, me.username, "approve_kb_draft", f"draft:{draft_id}", file=path.name)

    def reject(session: Session) -> None:
        drafts.reject_draft(session, draft_id)
        record(session, me.username, "reject_kb_draft", f"draft:{draft_id}")

    try:
        if action == "reject":
            await db(request, reject)
        else:
            await db(request, work)
            if action == "approve":
                await db(request, approve)
    except drafts.DraftError as exc:
        return await _draft_page(request, current, draft_id, exc.problems, sources)
    return RedirectResponse(f"/console/drafts/{draft_id}", status_code=303)
