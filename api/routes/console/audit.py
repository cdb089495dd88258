"""The audit log (admins only): filter by actor, action, target and dates; 50 a page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.routes.console.common import CurrentDep, db, iso_date, page_router, render, require
from core.db.models import AuditLog
from core.staff.audit import AuditFilter, audit_actions, search_audit

router = page_router()
Text = Annotated[str | None, Query(max_length=128)]


def _day(value: str | None) -> dt.datetime | None:
    day = iso_date(value)
    return dt.datetime.combine(day, dt.time(), dt.UTC) if day else None


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    current: CurrentDep,
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    """Staff actions, newest first, narrowed by the filters (`until` includes that day)."""
    require(current, "admin")
    end = _day(until)
    where = AuditFilter(
        actor or None,
        action or None,
        target or None,
        _day(since),
        end + dt.timedelta(days=1) if end else None,
    )

    def load(session: Session) -> tuple[list[AuditLog], int, list[str]]:
        entries, pages = search_audit(session, where, page)
        return entries, pages, audit_actions(session)

    entries, pages, actions = await db(request, load)
    query = urlencode(
        {k: v for k, v in {"actor": actor, "action": action, "target": target,
                           "since": since, "until": until}.items() if v}
    )  # fmt: skip
    return render(
        request,
        "audit.html",
        current,
        entries=entries,
        where=where,
        actions=actions,
        page=min(page, pages),
        pages=pages,
        since=since or "",
        until=until or "",
        query=query,
    )
