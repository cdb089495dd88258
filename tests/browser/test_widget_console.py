"""A citizen in the widget and a staff member in the console, in a real browser (chromium)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import STAFF_PASSWORD
from tests.browser.helpers import claim_ticket, new_session, wait_urgent_first

pytestmark = pytest.mark.e2e

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
WAIT_MS = 60_000  # Rasa on a small CI machine can be slow; these are ceilings, not asserts


@pytest.fixture(autouse=True)
def _patient_expect() -> None:
    expect.set_options(timeout=WAIT_MS)


def ask(page: Page, text: str) -> None:
    """Type a message and send it with the Enter key (keyboard use)."""
    box = page.get_by_label("输入消息")
    box.fill(text)
    box.press("Enter")


def bot_messages(page: Page, kind: str):
    return page.locator(f'.qw-msg[data-type="{kind}"]')


def staff_login(page: Page, base: str, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_citizen_and_staff_handoff_round_trip(browser_stack, chromium, screenshots):
    _, base = browser_stack
    citizen_ctx = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    staff_ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    citizen, staff = citizen_ctx.new_page(), staff_ctx.new_page()
    citizen.set_default_timeout(WAIT_MS)
    staff.set_default_timeout(WAIT_MS)

    # --- citizen: a KB question gets a sourced answer; a follow-up button asks the next one.
    citizen.goto(f"{base}/")
    citizen.get_by_role("button", name=re.compile("侨务助手")).click()
    expect(citizen.locator(".qw-sr")).to_have_attribute("aria-live", "polite")
    ask(citizen, "附加证明书怎么办理？")
    answer = bot_messages(citizen, "kb_answer").first
    expect(answer).to_have_attribute("data-kb-id", "apostille_how_to_apply")
    expect(answer.locator(".qw-meta a").first).to_have_attribute("href", re.compile("^https?://"))
    expect(answer.locator(".qw-meta")).to_contain_text("审核日期：20")
    follow_up = answer.locator(".qw-opts button").first
    follow_up_title = follow_up.inner_text()
    follow_up.click()
    expect(bot_messages(citizen, "kb_answer")).to_have_count(2)
    expect(citizen.locator('.qw-msg[data-role="user"]').last).to_have_text(follow_up_title)
    answer.get_by_role("button", name="有帮助", exact=True).click()
    expect(answer.locator(".qw-rate")).to_have_text("感谢您的反馈！")
    answer.locator(".qw-meta").evaluate('node => node.scrollIntoView({block: "center"})')
    citizen.screenshot(path=str(screenshots / "widget.png"))

    # --- citizen asks for a human; then sends markup, which must stay text.
    citizen.get_by_role("button", name="转人工服务").click()
    handoff = bot_messages(citizen, "handoff").first
    expect(handoff).to_contain_text("工单号")
    ticket = re.search(r"#(\d+)", handoff.inner_text()).group(1)
    ask(citizen, XSS)
    expect(citizen.locator('.qw-msg[data-role="user"]').last).to_have_text(XSS)
    expect(bot_messages(citizen, "handoff")).to_have_count(2)

    # Another citizen reports an emergency: an urgent ticket, listed first and highlighted.
    emergency = citizen_ctx.request.post(
        f"{base}/api/v1/messages",
        data={
            "session_id": new_session(citizen_ctx.request, base),
            "text": "我在国外护照被偷了，怎么办",
        },
    ).json()["messages"]
    urgent_ticket = next(
        m["custom"]["ticket"] for m in emergency if m["custom"]["type"] == "emergency"
    )

    # --- staff: log in, see the queue, open the ticket, see the markup as text, claim, reply.
    staff_login(staff, base, "agent1")
    row = staff.locator(f'tr[data-ticket="{ticket}"]')
    expect(row).to_contain_text("网页")
    wait_urgent_first(staff, urgent_ticket)  # listed above every normal ticket, highlighted
    expect(staff.locator(f'tr[data-ticket="{urgent_ticket}"]')).to_have_class(
        re.compile(r"\burgent\b")
    )
    staff.screenshot(path=str(screenshots / "console-queue.png"))
    row.get_by_role("link").click()
    expect(staff.locator(".line.citizen .text").last).to_have_text(XSS)
    expect(staff.locator(".line.citizen").first).to_contain_text("附加证明书怎么办理")
    claim_ticket(staff)
    expect(staff.locator("#ticket-state")).to_contain_text("已接手")
    reply = "您好，我是工作人员。请问您的文书是哪国出具的？<b>不加粗</b>"
    staff.get_by_label("回复市民").fill(reply)
    staff.get_by_role("button", name="发送回复").click()
    expect(staff.locator(".line.staff .text").last).to_have_text(reply)
    staff.screenshot(path=str(screenshots / "console-ticket.png"), full_page=True)

    # --- the citizen sees the reply (pushed by server-sent events), as text.
    expect(citizen.locator('.qw-msg[data-role="staff"] .qw-text')).to_have_text(reply)
    assert citizen.evaluate("window.__xss") is None
    assert staff.evaluate("window.__xss") is None
    citizen.screenshot(path=str(screenshots / "widget-staff-reply.png"))

    # --- after a reload the conversation is still there (history from the api).
    citizen.reload()
    expect(citizen.locator('.qw-msg[data-role="staff"] .qw-text')).to_have_text(reply)
    expect(bot_messages(citizen, "kb_answer").first).to_have_attribute(
        "data-kb-id", "apostille_how_to_apply"
    )

    # --- staff closes; the citizen is told, and the bot answers the next question again.
    staff.get_by_role("button", name=re.compile("结束人工服务")).click()
    expect(staff.locator("#ticket-state")).to_contain_text("已关闭")
    closed = citizen.locator('.qw-msg[data-role="system"]').filter(has_text="人工服务已结束")
    expect(closed).to_have_count(1)
    ask(citizen, "什么是领事认证")
    expect(bot_messages(citizen, "kb_answer").last).to_have_attribute(
        "data-kb-id", "legalization_what_is"
    )
    citizen_ctx.close()
    staff_ctx.close()


def test_console_post_without_csrf_token_is_rejected(browser_stack, chromium):
    _, base = browser_stack
    context = chromium.new_context()
    page = context.new_page()
    staff_login(page, base, "agent1")
    expect(page.get_by_role("heading", name=re.compile("待处理工单"))).to_be_visible()
    # Same browser, same session cookie, but no CSRF token in the form body.
    response = context.request.post(f"{base}/console/logout", form={"x": "1"})
    assert response.status == 403
    assert "CSRF" in response.json()["error"]["message"]
    page.goto(f"{base}/console")
    expect(page.get_by_role("heading", name=re.compile("待处理工单"))).to_be_visible()
    context.close()


def test_wrong_passwords_lock_the_account(browser_stack, chromium):
    _, base = browser_stack
    context = chromium.new_context()
    page = context.new_page()
    for _ in range(4):
        staff_login(page, base, "locked1", "not-the-password")
        expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    staff_login(page, base, "locked1", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("已锁定")
    staff_login(page, base, "locked1")  # the right password no longer helps
    expect(page.get_by_role("alert")).to_contain_text("已锁定")
    context.close()


def test_a_message_the_service_did_not_take_is_given_back_to_resend(browser_stack, chromium):
    _, base = browser_stack
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    # The api answers 503 "not accepted" (e.g. bot and database both down).
    page.route(
        "**/api/v1/messages",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"error": {"code": "unavailable", "message": "服务暂时不可用，请稍后重新发送。"}}',
        ),
    )
    page.goto(f"{base}/")
    page.get_by_role("button", name=re.compile("侨务助手")).click()
    ask(page, "附加证明书怎么办理？")
    expect(page.locator(".qw-msg.qw-error").last).to_contain_text("请稍后重新发送")
    expect(page.get_by_label("输入消息")).to_have_value("附加证明书怎么办理？")
    page.unroute("**/api/v1/messages")
    page.get_by_label("输入消息").press("Enter")
    expect(bot_messages(page, "kb_answer").first).to_be_visible()
    expect(page.get_by_label("输入消息")).to_have_value("")
    context.close()
