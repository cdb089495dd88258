"""The widget as citizens use it, in chromium: English, links, privacy, a new conversation, two
tabs receiving the same staff reply, the unread badge, the 1–5 rating, 320 px, 200 % zoom,
keyboard only, the live region."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    WAIT_MS,
    ask,
    bot_messages,
    claim_ticket,
    expect_patient,
    open_widget,
    staff_login,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _patient_expect() -> None:
    expect_patient()


def citizen_page(context, base: str, path: str = "/") -> Page:
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{base}{path}")
    return page


def test_english_widget_links_privacy_and_new_conversation(browser_stack, chromium, screenshots):
    _, base = browser_stack
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = citizen_page(context, base, "/en")
    open_widget(page, "Qiaowu Assistant")
    expect(page.locator(".qw-root")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Talk to staff")).to_be_visible()
    expect(page.locator(".qw-msg").first).to_contain_text("Hello, I am the Qiaowu Assistant")
    sent: list[dict] = []
    page.on(
        "request",
        lambda r: (
            sent.append(json.loads(r.post_data))
            if r.url.endswith("/api/v1/messages") and r.method == "POST"
            else None
        ),
    )
    ask(page, "What is an apostille?", "Type a message")
    answer = bot_messages(page, "kb_answer").first
    expect(answer).to_be_visible()
    expect(answer.locator(".qw-meta")).to_contain_text("Sources: ")
    assert sent and sent[0]["lang"] == "en"
    page.screenshot(path=str(screenshots / "widget-en.png"))

    # Links in answers are real <a> elements, for http(s) only.
    privacy = page.locator(".qw-privacy a")
    expect(privacy).to_have_attribute("href", re.compile(r"/privacy\?lang=en$"))
    page.route(
        "**/api/v1/messages",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {
                    "messages": [
                        {
                            "text": "See https://www.mfa.gov.cn/web/ and javascript:alert(1) "
                            "or <a href=x>not a link</a>.",
                            "custom": {"type": "fallback"},
                        }
                    ]
                }
            ),
        ),
    )
    ask(page, "links please", "Type a message")
    links = page.locator('.qw-msg[data-type="fallback"] .qw-text a')
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://www.mfa.gov.cn/web/")
    expect(links).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator('.qw-msg[data-type="fallback"] .qw-text')).to_contain_text(
        "<a href=x>not a link</a>"
    )
    page.unroute("**/api/v1/messages")

    # The privacy page.
    privacy_page = context.new_page()
    privacy_page.goto(privacy.get_attribute("href"))
    expect(privacy_page.get_by_role("heading", level=1)).to_contain_text("privacy")
    privacy_page.close()

    # "New chat": a confirmation first (cancel keeps everything), then a fresh session.
    before = page.evaluate("localStorage.getItem('qiaowu-session')")
    page.get_by_role("button", name="Start a new conversation").click()
    expect(page.locator(".qw-confirm")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(bot_messages(page, "kb_answer")).to_have_count(1)
    page.get_by_role("button", name="Start a new conversation").click()
    page.get_by_role("button", name="Yes, start a new conversation").click()
    expect(bot_messages(page, "kb_answer")).to_have_count(0)
    expect(page.locator(".qw-msg")).to_have_count(1)
    assert page.evaluate("localStorage.getItem('qiaowu-session')") != before
    page.reload()
    expect(bot_messages(page, "kb_answer")).to_have_count(0)
    context.close()


def test_two_tabs_get_the_staff_reply_the_closed_one_shows_a_badge_and_the_rating(
    browser_stack, chromium, screenshots
):
    _, base = browser_stack
    citizen = chromium.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN")
    first = citizen_page(citizen, base)
    open_widget(first)
    ask(first, "转人工")
    handoff = bot_messages(first, "handoff").first
    expect(handoff).to_contain_text("工单号")
    ticket = re.search(r"#(\d+)", handoff.inner_text()).group(1)
    # The same conversation in a second tab, left closed.
    second = citizen_page(citizen, base)
    first.bring_to_front()
    if second.locator(".qw-open").count():
        second.get_by_role("button", name="关闭对话窗口").click()
    expect(second.locator(".qw-panel")).to_be_hidden()

    staff_ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff = staff_ctx.new_page()
    staff.set_default_timeout(WAIT_MS)
    staff_login(staff, base, "agent1")
    staff.goto(f"{base}/console/tickets/{ticket}")
    claim_ticket(staff)
    reply = "您好，我是工作人员，请问有什么可以帮您？"
    staff.get_by_label("回复市民").fill(reply)
    staff.get_by_role("button", name="发送回复").click()

    # Both tabs get it; the closed one shows an unread badge on its launcher.
    expect(first.locator('.qw-msg[data-role="staff"] .qw-text')).to_have_text(reply)
    expect(first.locator(".qw-sr")).to_contain_text(reply)
    badge = second.locator(".qw-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_text(re.compile(r"^[1-9]"))
    expect(second.locator(".qw-toggle")).to_have_attribute("aria-label", re.compile("条新消息"))
    second.screenshot(path=str(screenshots / "widget-unread.png"))
    second.locator(".qw-toggle").click()
    expect(badge).to_be_hidden()
    expect(second.locator('.qw-msg[data-role="staff"] .qw-text')).to_have_text(reply)
    expect(first.locator('.qw-msg[data-role="staff"]')).to_have_count(1)  # shown once

    # Closing asks for a 1–5 rating; the citizen answers with a button.
    staff.get_by_role("button", name=re.compile("结束人工服务")).click()
    stars = first.locator(".qw-stars")
    expect(stars.get_by_role("button")).to_have_count(5)
    first.get_by_role("button", name="4 分（共 5 分）").click()
    expect(first.locator('.qw-msg[data-type="rating_request"]').first).to_contain_text(
        "感谢您的评价"
    )
    staff.goto(f"{base}/console/tickets/{ticket}")
    expect(staff.locator("#ticket-rating")).to_contain_text("4/5")
    staff.goto(f"{base}/console/analytics")
    expect(staff.locator("#rating-mean")).to_contain_text("/ 5")
    citizen.close()
    staff_ctx.close()


@pytest.mark.parametrize(
    ("width", "height", "name"), [(320, 640, "320px"), (640, 360, "200% zoom of 1280x720")]
)
def test_widget_fits_small_screens_and_zoom_and_works_by_keyboard(
    browser_stack, chromium, width, height, name
):
    _, base = browser_stack
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = citizen_page(context, base)
    # Keyboard only: Tab to the launcher, Enter opens and focuses the input.
    toggle = page.locator(".qw-toggle")
    for _ in range(30):
        page.keyboard.press("Tab")
        if toggle.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail(f"{name}: the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    box = page.get_by_label("输入消息")
    expect(box).to_be_focused()
    page.keyboard.type("附加证明书怎么办理？")
    page.keyboard.press("Enter")
    expect(bot_messages(page, "kb_answer").first).to_be_visible()
    # Nothing sticks out sideways; the input and send button are inside the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for locator in (box, page.get_by_role("button", name="发送"), page.locator(".qw-head")):
        rect = locator.bounding_box()
        assert rect and rect["x"] >= 0 and rect["x"] + rect["width"] <= width + 0.5, name
        assert rect["y"] >= 0 and rect["y"] + rect["height"] <= height + 0.5, name
    # The buttons of the answer are reachable with Tab; Esc closes and focus returns.
    page.keyboard.press("Escape")
    expect(page.locator(".qw-panel")).to_be_hidden()
    expect(toggle).to_be_focused()
    context.close()


def test_new_messages_are_announced_once_not_the_history(browser_stack, chromium):
    _, base = browser_stack
    context = chromium.new_context(locale="zh-CN")
    page = citizen_page(context, base)
    open_widget(page)
    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "off")
    announcer = page.locator(".qw-sr")
    expect(announcer).to_have_attribute("aria-live", "polite")
    ask(page, "附加证明书怎么办理？")
    expect(bot_messages(page, "kb_answer").first).to_be_visible()
    text = bot_messages(page, "kb_answer").first.locator(".qw-text").inner_text()
    expect(announcer).to_have_text(text)
    page.reload()  # history comes back but is not read out again
    expect(bot_messages(page, "kb_answer").first).to_be_visible()
    expect(announcer).to_have_text("")
    context.close()
