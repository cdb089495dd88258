"""The editors' review queue: KB entries whose `last_reviewed` is older than KB_REVIEW_AFTER_DAYS
and countries whose check is older than the country table's review age; starting a review
opens a review draft (approving it writes today's date through the draft workflow)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.routes.console import common
from api.routes.console.common import CurrentDep, PostDep
from api.routes.console.drafts import draft_error_page, open_draft
from core.kb import countries, drafts
from core.kb.loader import KBError
from core.services import get_kb

router = common.page_router()


@router.get("/review", response_class=HTMLResponse)
async def review_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """Entries and countries due for review, oldest first."""
    common.require(current, "editor")
    settings = common.settings_of(request)
    today = countries.today()
    entries = drafts.entries_due(get_kb(), today, settings.kb_review_after_days)
    try:
        table = countries.load_countries(settings.kb_dir / "countries.yml", today)
        due = sorted(countries.due_for_review(table, today), key=lambda c: (c.checked, c.code))
    except (KBError, OSError):
        due = []
    return common.render(
        request,
        "review.html",
        current,
        entries=entries,
        countries=[(c.zh, c.en, c.checked, (today - c.checked).days) for c in due],
        entry_days=settings.kb_review_after_days,
        country_days=countries.REVIEW_AFTER_DAYS,
    )


@router.post("/review/{kb_id}")
async def start_review(post: PostDep, kb_id: str) -> Response:
    """Open (or reuse) the review draft of an entry and go to it."""
    me = post.actor("editor")
    kb = get_kb()

    def work(session: Session) -> int:
        draft = drafts.draft_for_review(session, kb, kb_id, me.username)
        common.record(session, me.username, "start_kb_review", f"draft:{draft.id}", kb_id=kb_id)
        return draft.id

    return await open_draft(
        post, work, lambda exc: draft_error_page(post.request, post.current, exc.problems)
    )
