"""A staff member's console language (stored per user) and the console's script."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.routes.console.common import ROOT, CsrfField, CurrentDep, check_csrf, db, page_router
from core.staff import users as staff

router = page_router()


@router.get("/static/console.js")
async def console_js() -> FileResponse:
    """Live queue and ticket, alerts, inserting answers (no inline scripts: the CSP forbids them)."""
    return FileResponse(
        ROOT / "static" / "console.js",
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.post("/lang")
async def set_lang(
    request: Request,
    current: CurrentDep,
    lang: Annotated[str, Form(max_length=8)] = "zh",
    next_page: Annotated[str, Form(alias="next", max_length=500)] = "/console",
    csrf_token: CsrfField = None,
) -> Response:
    """Switch the console between Chinese and English for this user; back to the same page."""
    check_csrf(current, csrf_token)
    chosen = lang if lang in staff.LANGS else "zh"

    def work(session: Session) -> None:
        staff.set_console_lang(session, current.staff.id, chosen)

    await db(request, work)
    parts = urlsplit(next_page)
    same_site = not parts.scheme and not parts.netloc and parts.path.startswith("/console")
    target = parts.path + (f"?{parts.query}" if parts.query else "") if same_site else "/console"
    return RedirectResponse(target, status_code=303)
