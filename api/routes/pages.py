"""The demo page, the embeddable widget script and health checks."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import RelayDep, SettingsDep
from core.conversation.health import readiness
from core.texts import LANGS, section

router = APIRouter()
STATIC = Path(__file__).resolve().parents[1] / "static"
TEXTS_PLACEHOLDER = "/*QW_TEXTS*/null"


@cache
def static_page(name: str) -> str:
    """A public page of api/static: its own text in the frame they share (`_page.html`)."""
    env = Environment(
        loader=FileSystemLoader(STATIC),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template(name).render()


def _page(name: str) -> HTMLResponse:
    return HTMLResponse(static_page(name))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index() -> HTMLResponse:
    """Demo page embedding the widget with one script tag."""
    return _page("index.html")


@router.get("/en", response_class=HTMLResponse, include_in_schema=False)
async def index_en() -> HTMLResponse:
    """The demo page in English (the widget follows the page language)."""
    return _page("index.en.html")


@lru_cache(maxsize=1)
def widget_source() -> str:
    """widget.js with its texts from the catalogue (both languages; the widget picks one)."""
    texts = {lang: section("widget", lang) for lang in LANGS}
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    return source.replace(TEXTS_PLACEHOLDER, json.dumps(texts, ensure_ascii=False), 1)


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> Response:
    """The embeddable widget."""
    return Response(
        widget_source(),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/widget.css", include_in_schema=False)
async def widget_css() -> FileResponse:
    """The widget's stylesheet (widget.js adds it to the host page; no inline styles)."""
    return FileResponse(
        STATIC / "widget.css",
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
async def privacy(lang: str = "zh") -> HTMLResponse:
    """What the assistant stores and why (linked from the widget's privacy line)."""
    return _page("privacy.en.html" if lang == "en" else "privacy.html")


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
