"""The whole system (Rasa + actions + api on the trained model) and Debian's chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.staff.users import create_user
from scripts.stack import Stack, current_model, local_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
STAFF_PASSWORD = "browser-test-password"
ROOT = Path(__file__).resolve().parents[2]
AXE_PATHS = [
    ROOT / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js",
    ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js",
]


@pytest.fixture(scope="session")
def browser_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """Rasa, actions and api on free ports; staff users agent1, agent2, editor1, admin1 and
    locked1 exist. Yields (stack, url)."""
    # E2E_MODEL: use another model file (e.g. while iterating as data/ changes under you).
    model = Path(os.environ["E2E_MODEL"]) if os.environ.get("E2E_MODEL") else current_model()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` first")

    def staff(session: Session) -> None:
        create_user(session, "agent1", STAFF_PASSWORD, "agent")
        create_user(session, "agent2", STAFF_PASSWORD, "agent")
        create_user(session, "editor1", STAFF_PASSWORD, "editor")
        create_user(session, "admin1", STAFF_PASSWORD, "admin")
        create_user(session, "locked1", STAFF_PASSWORD, "agent")

    # Staff are "on duty" around the clock here, so no after-hours notice varies the flow.
    running, ports = local_stack(
        tmp_path_factory.mktemp("browser"),
        model=model,
        seed=staff,
        extra_env={
            "OFFICE_HOURS": "00:00-23:59:59",
            "OFFICE_DAYS": "1-7",
            "CONSOLE_POLL_S": "1",
            "CONSOLE_WAIT_TARGET_S": "600",
        },
    )
    api_port = ports["api"]
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
    """Where screenshots go: var/screenshots/ (make test), docs/screenshots/ with
    UPDATE_SCREENSHOTS=1 (make screenshots; committed, shown in README)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        path = ROOT / "docs" / "screenshots"
    else:
        path = ROOT / "var" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's axe.min.js from the local npm install (make browser-deps); never downloaded
    at test time."""
    for path in AXE_PATHS:
        if path.exists():
            return path.read_text(encoding="utf-8")
    pytest.fail("axe-core missing: run `make browser-deps` (npm install axe-core into var/node)")
