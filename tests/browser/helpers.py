"""What the browser tests share (no tests): typing in the widget, logging in, a citizen's ticket
made through the api, the axe-core audit."""

from __future__ import annotations

import re
import secrets
from typing import Any

from playwright.sync_api import APIRequestContext, Page, expect

from tests.browser.conftest import STAFF_PASSWORD

WAIT_MS = 60_000  # Rasa on a small CI machine can be slow; these are ceilings, not asserts
BLOCKING = ("serious", "critical")


def ask(page: Page, text: str, label: str = "输入消息") -> None:
    """Type a message and send it with the Enter key (keyboard use)."""
    box = page.get_by_label(label)
    box.fill(text)
    box.press("Enter")


def bot_messages(page: Page, kind: str):
    return page.locator(f'.qw-msg[data-type="{kind}"]')


def open_widget(page: Page, name: str = "侨务助手") -> None:
    page.get_by_role("button", name=re.compile(name)).first.click()


def staff_login(page: Page, base: str, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def claim_ticket(page: Page) -> None:
    """Press 接手工单 and wait for the reloaded page's script: a form used before console.js
    bound its handlers would be submitted as a plain GET (the KB search then shows raw JSON)."""
    page.get_by_role("button", name="接手工单").click()
    expect(page.locator("#claim")).to_have_count(0)
    expect(page.locator('body[data-js="ready"]')).to_have_count(1)


def new_session(request: APIRequestContext, base: str) -> str:
    """A widget session id as the api issues it (signed), or a random one where it does not."""
    response = request.post(f"{base}/api/v1/sessions")
    if response.status == 201:
        return str(response.json()["session_id"])
    assert response.status == 404, f"{response.status} {response.text()}"
    return "bt-" + secrets.token_hex(8)


def citizen_ticket(request: APIRequestContext, base: str, text: str = "转人工") -> tuple[str, int]:
    """A citizen (via the api, as the widget would) asks for staff: (session id, ticket)."""
    session = new_session(request, base)
    response = request.post(f"{base}/api/v1/messages", data={"session_id": session, "text": text})
    assert response.ok, f"{response.status} {response.text()}"
    replies = response.json()["messages"]
    ticket = next(
        m["custom"]["ticket"]
        for m in replies
        if m.get("custom") and m["custom"].get("type") in ("handoff", "emergency")
    )
    return session, int(ticket)


def csrf_of(page: Page) -> str:
    return page.locator('input[name="csrf_token"]').first.get_attribute("value") or ""


def audit(page: Page, axe_source: str, context: str, include: str | None = None) -> list[Any]:
    """Run axe-core (WCAG 2.1 A/AA rules) on the page; the serious and critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the pages' CSP forbids inline scripts.
        page.evaluate(axe_source)
    result = page.evaluate(
        """async (include) => {
            const options = {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}};
            const r = await axe.run(include ? {include: [include]} : document, options);
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }""",
        include,
    )
    blocking = [v for v in result if v["impact"] in BLOCKING]
    for v in blocking:
        v["context"] = context
    return blocking


def expect_patient() -> None:
    expect.set_options(timeout=WAIT_MS)


URGENT_FIRST = """(id) => {
    const rows = [...document.querySelectorAll("table.queue tbody tr")];
    const mine = rows.findIndex((r) => r.dataset.ticket === String(id));
    const normal = rows.findIndex((r) => r.dataset.priority !== "urgent");
    return mine >= 0 && rows[mine].dataset.priority === "urgent" && (normal < 0 || mine < normal);
}"""


def wait_urgent_first(page: Page, ticket: int) -> None:
    """Wait until the queue lists `ticket` as urgent, above every normal ticket (other tests may
    have left urgent tickets of their own)."""
    page.wait_for_function(URGENT_FIRST, arg=ticket, timeout=WAIT_MS)
