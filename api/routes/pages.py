"""The demo page, the embeddable widget script and health checks."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from api.deps import RelayDep, SettingsDep
from core.conversation.health import readiness

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


@router.get(
    "/readyz",
    tags=["health"],
    responses={503: {"description": "A dependency is unavailable (named in the body)"}},
)
async def readyz(relay: RelayDep, settings: SettingsDep) -> JSONResponse:
    """Readiness: Rasa has a model loaded, the action server and the app database answer."""
    checks = await readiness(relay.rasa, settings.action_server_url, relay.sessions)
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        **{name: "ok" if ok else "unavailable" for name, ok in checks.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503)
