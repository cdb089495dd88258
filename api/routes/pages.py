"""The demo page, the embeddable widget script and health checks."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import RelayDep

router = APIRouter()
STATIC = Path(__file__).resolve().parents[1] / "static"


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index() -> FileResponse:
    """Demo page embedding the widget with one script tag."""
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> FileResponse:
    """The embeddable widget."""
    return FileResponse(
        STATIC / "widget.js",
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["health"])
async def readyz(relay: RelayDep) -> dict[str, str]:
    """Readiness: Rasa answers with a model loaded."""
    ready = await relay.rasa.is_ready()
    return {"status": "ok" if ready else "degraded", "rasa": "ok" if ready else "unavailable"}
