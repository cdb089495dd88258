"""The whole system (Rasa + actions + api on the trained model) and Debian's chromium."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db.engine import build_engine, session_factory, session_scope
from core.db.migrate import upgrade
from core.seed import seed_demo_cases
from core.settings import DEV_SALT
from core.staff import create_user
from scripts.stack import Stack, build_stack, current_model, write_endpoints

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
STAFF_PASSWORD = "browser-test-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def browser_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """Rasa, actions and api on free ports; staff users agent1/locked1 exist. Yields (stack, url)."""
    # E2E_MODEL: use another model file (e.g. while iterating as data/ changes under you).
    model = Path(os.environ["E2E_MODEL"]) if os.environ.get("E2E_MODEL") else current_model()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` first")
    work = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{work / 'app.db'}"
    upgrade(url)
    with session_scope(session_factory(build_engine(url))) as session:
        seed_demo_cases(session, DEV_SALT, dt.datetime.now(dt.UTC))
        create_user(session, "agent1", STAFF_PASSWORD, "agent")
        create_user(session, "locked1", STAFF_PASSWORD, "agent")
    rasa_port, action_port, api_port = _free_port(), _free_port(), _free_port()
    endpoints = write_endpoints(
        work / "endpoints.yml", action_port=action_port, tracker_db=work / "tracker.db"
    )
    running = build_stack(
        model=model,
        database_url=url,
        rasa_port=rasa_port,
        action_port=action_port,
        api_port=api_port,
        rasa_token=secrets.token_urlsafe(16),
        endpoints=endpoints,
        log_dir=work / "log",
        # Staff are "on duty" around the clock here, so no after-hours notice varies the flow.
        extra_env={
            "HASH_SALT": DEV_SALT,
            "LOG_SALT": DEV_SALT,
            "OFFICE_HOURS": "00:00-23:59:59",
            "OFFICE_DAYS": "1-7",
        },
    )
    try:
        running.up(timeout_s=400)
        yield running, f"http://127.0.0.1:{api_port}"
    finally:
        running.down()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Headless Debian chromium driven by Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync API keeps an event loop running in this thread, which
    would break later tests that call asyncio.run().
    """
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """docs/screenshots/ (committed, shown in README)."""
    path = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
