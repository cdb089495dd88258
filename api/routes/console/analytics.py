"""Service analytics of the last days, drawn as server-side SVG, each chart with its table."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.routes.console.common import CurrentDep, db, page_router, render
from api.routes.console.i18n import translate
from core.conversation import analytics
from core.handoff.console import channel_label

router = page_router()


def _series(labels: list[str], values: list[float | None]) -> dict[str, object]:
    """Bars, y-axis values and the rows of the table view for one per-day chart."""
    numbers = [v or 0.0 for v in values]
    return {
        "bars": analytics.bars(labels, numbers),
        "ticks": analytics.ticks(numbers),
        "rows": [
            (label, "—" if v is None else f"{v:g}") for label, v in zip(labels, values, strict=True)
        ],
    }


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(
    request: Request, current: CurrentDep, days: int = 14, view: str = "chart"
) -> HTMLResponse:
    """Charts of the last `days` days (7–90); `view=table` shows every chart as a table."""
    days = min(max(days, 7), 90)
    lang = current.staff.lang
    tz = request.app.state.office_hours.tz
    data = await db(request, analytics.summary, dt.datetime.now(dt.UTC), tz, days)
    labels = [d.strftime("%m-%d") for d in data.days]
    rates = [(translate(label, lang), n, share) for label, n, share in data.rates]
    return render(
        request,
        "analytics.html",
        current,
        data=data,
        days=days,
        tables=view == "table",
        per_day=_series(labels, [float(v) for v in data.conversations]),
        handoffs_per_day=_series(labels, [float(v) for v in data.handoffs]),
        first_reply=_series(labels, data.first_reply_min),
        to_close=_series(labels, data.close_min),
        rating_days=_series(labels, data.rating_avg),
        rates=analytics.hbars(
            [label for label, _, _ in rates],
            [share * 100 for _, _, share in rates],
            value_format="{:.0f}%",
        ),
        rate_rows=[(label, f"{share * 100:.0f}% ({n})") for label, n, share in rates],
        topics=analytics.hbars([t for t, _ in data.topics], [float(n) for _, n in data.topics]),
        unanswered=analytics.hbars(
            [t for t, _ in data.unanswered], [float(n) for _, n in data.unanswered]
        ),
        scores=analytics.hbars([f"{s} ★" for s in range(1, 6)], [float(n) for n in data.ratings]),
        channels=[(translate(channel_label(c), lang), n) for c, n in data.by_channel],
        label_every=max(1, days // 14),
    )
