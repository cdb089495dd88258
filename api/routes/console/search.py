"""Finding tickets by number, channel, date, topic or text (agents and up)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.routes.console.common import CurrentDep, db, iso_date, page_router, render
from core.handoff import search

router = page_router()


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request,
    current: CurrentDep,
    q: str = "",
    channel: str = "",
    topic: str = "",
    date_from: str = "",
    date_to: str = "",
) -> HTMLResponse:
    """The search form and, when something was asked, the matching tickets (newest first)."""
    query = search.TicketQuery(
        text=q[:200],
        channel=channel[:16],
        topic=topic[:64],
        date_from=iso_date(date_from),
        date_to=iso_date(date_to),
    )
    tz = request.app.state.office_hours.tz
    results = None if query.empty else await db(request, search.search_tickets, query, tz)
    channels, topics = await db(request, search.channels_and_topics)
    return render(
        request,
        "search.html",
        current,
        query=query,
        results=results,
        channels=channels,
        topics=topics,
    )
