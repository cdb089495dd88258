"""Security headers (api/security.py), CORS, and what the CSP relies on in templates and static."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import sha256_source
from core.conversation.relay import Relay
from tests.factories import widget_session
from tests.fakes import FakeRasa

API = Path(__file__).resolve().parents[2] / "api"
ALLOWED = "https://www.example.gov.cn"
OTHER = "https://evil.example.com"


def make_client(settings, sessions, **overrides) -> TestClient:
    settings = settings.model_copy(update=overrides)
    relay = Relay(FakeRasa().client(), sessions, settings.max_message_chars)
    return TestClient(create_app(settings, relay=relay), raise_server_exceptions=False)


@pytest.fixture
def client(settings, sessions):
    with make_client(settings, sessions) as c:
        yield c


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def test_demo_page_has_a_csp_without_unsafe_inline(client):
    response = client.get("/")
    policy = directives(response.headers["content-security-policy"])
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    # the page's own <style> block is allowed by hash; the widget's styles come from a file
    inline_style = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert inline_style is not None
    assert policy["style-src"] == ["'self'", sha256_source(inline_style.group(1))]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_widget_brings_its_styles_as_a_stylesheet_not_inline(client):
    script = (API / "static" / "widget.js").read_text(encoding="utf-8")
    assert 'el("style")' not in script and "innerHTML" not in script
    assert 'apiBase + "/widget.css"' in script
    sheet = client.get("/widget.css")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
    assert ".qw-root{position:fixed" in sheet.text
    assert sheet.headers["cross-origin-resource-policy"] == "cross-origin"
    code = (API / "security.py").read_text(encoding="utf-8").split(chr(34) * 3)[2]
    assert "widget.js" not in code  # security.py no longer parses the script


def test_widget_script_stays_embeddable_in_other_sites(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in response.headers
    assert "content-security-policy" not in response.headers


def test_console_pages_have_strict_headers(client):
    response = client.get("/console/login")
    assert response.status_code == 200
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in " ".join(s for v in policy.values() for s in v)
    assert policy["script-src"] == ["'self'"] and policy["default-src"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_console_redirect_and_404_carry_the_headers_too(client):
    redirect = client.get("/console", follow_redirects=False)
    missing = client.get("/console/tickets/999999", follow_redirects=False)
    for response in (redirect, missing):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"


def test_api_json_is_not_cached_or_sniffed(client):
    response = client.post(
        "/api/v1/messages", json={"session_id": widget_session(), "text": "你好"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers  # JSON is not a document


def test_openapi_docs_allow_no_inline_script(client):
    response = client.get("/docs")
    policy = directives(response.headers["content-security-policy"])
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline and all(sha256_source(body) in policy["script-src"] for body in inline)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_templates_and_demo_page_need_no_inline_script_or_handlers():
    # The console CSP has no script-src and style-src 'self': templates must not rely on inline
    # code. The demo page's single <style> block is allowed by hash (checked above).
    for path in [*sorted((API / "templates").glob("*.html")), API / "static" / "index.html"]:
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path.name
        assert not re.search(r"\s(on[a-z]+|style)\s*=", html, re.IGNORECASE), path.name
        assert "javascript:" not in html, path.name
    for path in sorted((API / "templates").glob("*.html")):
        assert "<style" not in path.read_text(encoding="utf-8"), path.name


# --- CORS ---------------------------------------------------------------------------------


def preflight(client: TestClient, origin: str):
    return client.options(
        "/api/v1/messages",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def simple_post(client: TestClient, origin: str):
    return client.post(
        "/api/v1/messages",
        json={"session_id": widget_session(), "text": "你好"},
        headers={"Origin": origin},
    )


def test_cors_allows_only_configured_origins(settings, sessions):
    with make_client(settings, sessions, cors_origins=[ALLOWED]) as c:
        allowed = preflight(c, ALLOWED)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in allowed.headers["access-control-allow-methods"]
        other = preflight(c, OTHER)
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        assert simple_post(c, ALLOWED).headers["access-control-allow-origin"] == ALLOWED
        refused = simple_post(c, OTHER)
        assert refused.status_code == 200  # the browser, not the server, withholds the answer
        assert "access-control-allow-origin" not in refused.headers


def test_no_cors_headers_when_no_origins_are_configured(settings, sessions):
    with make_client(settings, sessions, cors_origins=[]) as c:
        for origin in (ALLOWED, OTHER):
            assert "access-control-allow-origin" not in preflight(c, origin).headers
            assert "access-control-allow-origin" not in simple_post(c, origin).headers
