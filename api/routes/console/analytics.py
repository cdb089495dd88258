"""Service analytics of the last days, drawn as server-side SVG."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.routes.console.common import CurrentDep, db, page_router, render
from core.conversation import analytics

router = page_router()


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(request: Request, current: CurrentDep, days: int = 14) -> HTMLResponse:
    """Charts of the last `days` days (7–90), drawn as server-side SVG."""
    days = min(max(days, 7), 90)
    tz = request.app.state.office_hours.tz
    data = await db(request, analytics.summary, dt.datetime.now(dt.UTC), tz, days)
    labels = [d.strftime("%m-%d") for d in data.days]
    return render(
        request,
        "analytics.html",
        current,
        data=data,
        days=days,
        per_day=analytics.bars(labels, [float(v) for v in data.conversations]),
        handoffs_per_day=analytics.bars(labels, [float(v) for v in data.handoffs]),
        rates=analytics.hbars(
            [label for label, _, _ in data.rates],
            [share * 100 for _, _, share in data.rates],
            value_format="{:.0f}%",
        ),
        topics=analytics.hbars([t for t, _ in data.topics], [float(n) for _, n in data.topics]),
        unanswered=analytics.hbars(
            [t for t, _ in data.unanswered], [float(n) for _, n in data.unanswered]
        ),
        label_every=max(1, days // 14),
    )
