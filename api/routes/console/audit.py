"""The audit log: the newest staff actions (admins only)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.routes.console.common import CurrentDep, db, page_router, render, require
from core.staff.audit import recent_audit

router = page_router()


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, current: CurrentDep) -> HTMLResponse:
    """The newest staff actions (admins only)."""
    require(current, "admin")
    entries = await db(request, recent_audit, 300)
    return render(request, "audit.html", current, entries=entries)
