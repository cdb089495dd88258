"""KB drafts (editors): from a resolved ticket, edit, approve into kb/ or reject."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.routes.console import common
from api.routes.console.common import Current, CurrentDep, Post, PostDep
from api.routes.console.tickets import ticket_view
from core.kb import drafts
from core.kb.topics import TOPICS

router = common.page_router()


@router.post("/tickets/{ticket_id}/draft")
async def draft_from_ticket(post: PostDep, ticket_id: int) -> Response:
    """Start a KB draft from a resolved ticket."""
    me = post.actor("editor")

    def work(session: Session) -> int:
        draft = drafts.draft_from_ticket(session, ticket_id, me.username)
        common.record(
            session, me.username, "create_kb_draft", f"draft:{draft.id}", ticket=ticket_id
        )
        return draft.id

    return await open_draft(
        post,
        work,
        lambda exc: ticket_view(post.request, post.current, ticket_id, error=str(exc), status=409),
    )


async def open_draft(
    post: Post,
    work: Callable[[Session], int],
    refused: Callable[[drafts.DraftError], Response | Awaitable[Response]],
) -> Response:
    """Run `work` (it starts or finds a draft and gives its id), then go to that draft; a refused
    draft shows `refused(error)` instead."""
    return await common.apply_change(
        post.request,
        work,
        lambda draft_id: f"/console/drafts/{draft_id}",
        drafts.DraftError,
        refused,
    )


@router.get("/drafts", response_class=HTMLResponse)
async def drafts_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """All KB drafts."""
    common.require(current, "editor")
    return common.render(
        request, "drafts.html", current, drafts=await common.db(request, drafts.list_drafts)
    )


def draft_error_page(request: Request, current: Current, problems: list[str]) -> HTMLResponse:
    """The drafts list with why a draft could not be started (409)."""
    return common.render(
        request, "drafts.html", current, status_code=409, drafts=[], problems=problems
    )


async def _draft_page(
    request: Request,
    current: Current,
    draft_id: int,
    problems: list[str] | None = None,
    sources_text: str | None = None,
) -> HTMLResponse:
    """The draft form; after a refused save, `sources_text` keeps what the editor typed."""
    draft = await common.db(request, drafts.find_draft, draft_id)
    if draft is None:
        raise HTTPException(404, "草稿不存在。")
    return common.render(
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
    common.require(current, "editor")
    return await _draft_page(request, current, draft_id)


@router.post("/drafts/{draft_id}")
async def save_draft(
    post: PostDep,
    draft_id: int,
    kb_id: Annotated[str, Form(max_length=64)] = "",
    topic: Annotated[str, Form(max_length=32)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    questions: Annotated[str, Form(max_length=10000)] = "",
    answer: Annotated[str, Form(max_length=10000)] = "",
    sources: Annotated[str, Form(max_length=5000)] = "",
    action: Annotated[str, Form(max_length=16)] = "save",
) -> Response:
    """Save the form; with action=approve also validate and write the entry to kb/."""
    me = post.actor("editor")
    request = post.request
    fields = drafts.DraftFields(
        kb_id, topic, title, questions.splitlines(), answer, drafts.parse_sources(sources)
    )
    kb_dir = common.settings_of(request).kb_dir

    def work(session: Session) -> None:
        drafts.update_draft(session, draft_id, fields, drafts.load_source_policy(kb_dir))
        common.record(session, me.username, "save_kb_draft", f"draft:{draft_id}")

    def approve(session: Session) -> None:
        path = drafts.approve_draft(session, draft_id, kb_dir, me.username, dt.date.today())
        common.record(session, me.username, "approve_kb_draft", f"draft:{draft_id}", file=path.name)

    def reject(session: Session) -> None:
        drafts.reject_draft(session, draft_id)
        common.record(session, me.username, "reject_kb_draft", f"draft:{draft_id}")

    try:
        if action == "reject":
            await common.db(request, reject)
        else:
            await common.db(request, work)
            if action == "approve":
                await common.db(request, approve)
    except drafts.DraftError as exc:
        return await _draft_page(request, post.current, draft_id, exc.problems, sources)
    return RedirectResponse(f"/console/drafts/{draft_id}", status_code=303)
