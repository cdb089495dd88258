"""The console as staff use it all day, in chromium: a live queue with alerts, two agents at once
(transfer; closing another's ticket refused), inserting answers, search, language, analytics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    WAIT_MS,
    citizen_ticket,
    claim_ticket,
    csrf_of,
    expect_patient,
    staff_login,
    wait_urgent_first,
)

pytestmark = pytest.mark.e2e

# Records desktop notifications instead of showing them (permission "granted").
NOTIFICATION_STUB = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push(title); }
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
"""


@pytest.fixture(autouse=True)
def _patient_expect() -> None:
    expect_patient()


def staff_page(chromium, base: str, username: str, **context) -> Page:
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", **context)
    ctx.add_init_script(NOTIFICATION_STUB)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    staff_login(page, base, username)
    return page


def style_of(page: Page, ticket: int, prop: str) -> str:
    """A computed style of a queue row, read in one step (the live table is swapped often)."""
    return page.evaluate(
        "([id, prop]) => getComputedStyle(document.querySelector(`tr[data-ticket='${id}']`))[prop]",
        [ticket, prop],
    )


def test_queue_updates_itself_and_alerts_on_new_and_urgent_tickets(
    browser_stack, chromium, screenshots
):
    _, base = browser_stack
    staff = staff_page(chromium, base, "agent1")
    expect(staff.get_by_role("heading", name="待处理工单")).to_be_visible()
    assert staff.locator('meta[http-equiv="refresh"]').count() == 0
    staff.evaluate("window.__sameDocument = true")
    staff.get_by_role("button", name="开启声音和桌面提醒").click()
    expect(staff.locator("#enable-alerts")).to_have_attribute("aria-pressed", "true")
    staff.wait_for_timeout(1500)  # one round of polling sets the baseline

    # A citizen asks for staff: the row and an alert appear without a reload.
    _, ticket = citizen_ticket(staff.context.request, base)
    row = staff.locator(f'tr[data-ticket="{ticket}"]')
    expect(row).to_be_visible()
    expect(staff.locator("#live-alert")).to_contain_text(f"新工单 #{ticket}")
    assert staff.evaluate("window.__sameDocument") is True
    assert int(staff.locator("body").get_attribute("data-beeps") or 0) >= 1
    assert any(f"#{ticket}" in note for note in staff.evaluate("window.__notes"))

    # An emergency: listed first, flashing until claimed, a stronger alert.
    _, urgent = citizen_ticket(staff.context.request, base, "我在国外护照被偷了，怎么办")
    wait_urgent_first(staff, urgent)
    expect(staff.locator(f'tr[data-ticket="{urgent}"]')).to_have_class(re.compile(r"\bflash\b"))
    expect(staff.locator("#live-alert")).to_contain_text(f"紧急工单 #{urgent}")
    assert style_of(staff, urgent, "animationName") == "qw-flash"
    staff.screenshot(path=str(screenshots / "console-live-queue.png"))

    # With reduced motion the row stays marked (outline) but does not flash.
    calm = staff_page(chromium, base, "agent2", reduced_motion="reduce")
    calm_row = calm.locator(f'tr[data-ticket="{urgent}"]')
    expect(calm_row).to_have_class(re.compile(r"\bflash\b"))
    assert style_of(calm, urgent, "animationName") == "none"
    assert style_of(calm, urgent, "outlineStyle") == "solid"

    # Claimed: it stops flashing, in the other agent's queue too, by itself.
    staff.goto(f"{base}/console/tickets/{urgent}")
    claim_ticket(staff)
    expect(staff.locator("#ticket-state")).to_contain_text("已接手")
    expect(calm_row).not_to_have_class(re.compile(r"\bflash\b"))
    staff.context.close()
    calm.context.close()


def test_two_agents_transfer_and_cannot_close_each_others_tickets(browser_stack, chromium):
    _, base = browser_stack
    one = staff_page(chromium, base, "agent1")
    two = staff_page(chromium, base, "agent2")
    session, ticket = citizen_ticket(one.context.request, base)
    one.goto(f"{base}/console/tickets/{ticket}")
    two.goto(f"{base}/console/tickets/{ticket}")
    claim_ticket(one)
    expect(one.locator("#ticket-state")).to_contain_text("agent1")

    # agent2's page notices by itself that the ticket is now agent1's.
    expect(two.locator("#ticket-state")).to_contain_text("agent1")
    expect(two.locator("#state-changed")).to_be_visible()
    two.reload()
    expect(two.get_by_role("button", name=re.compile("结束人工服务"))).to_have_count(0)
    refused = two.context.request.post(
        f"{base}/console/tickets/{ticket}/close", form={"csrf_token": csrf_of(two)}
    )
    assert refused.status == 409 and "只有其本人或管理员可以结束" in refused.text()

    # The citizen keeps writing: agent1 sees it without reloading.
    one.context.request.post(
        f"{base}/api/v1/messages", data={"session_id": session, "text": "还在吗？第二个问题"}
    )
    expect(one.locator(".line.citizen .text").last).to_have_text("还在吗？第二个问题")

    # agent1 hands the ticket to agent2, who can then reply and close it.
    one.get_by_label("转交给").select_option("agent2")
    one.get_by_role("button", name="转交工单").click()
    expect(one.locator("#ticket-state")).to_contain_text("agent2")
    expect(one.locator("#reply-text")).to_have_count(0)
    two.reload()
    two.get_by_label("回复市民").fill("您好，我是接手的工作人员。")
    two.get_by_role("button", name="发送回复").click()
    expect(two.locator(".line.staff .text").last).to_have_text("您好，我是接手的工作人员。")
    expect(two.locator(".line.note").last).to_contain_text("agent1 将工单转交给 agent2")
    two.get_by_role("button", name=re.compile("结束人工服务")).click()
    expect(two.locator("#ticket-state")).to_contain_text("已关闭")
    one.context.close()
    two.context.close()


def test_insert_kb_answer_and_saved_reply_into_the_reply_box(browser_stack, chromium):
    _, base = browser_stack
    admin = staff_page(chromium, base, "admin1")
    admin.goto(f"{base}/console/replies")
    admin.get_by_label("标题").fill("问候语")
    admin.get_by_label("内容").fill("您好，这里是外事侨务办公室，很高兴为您服务。")
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator("#saved-replies")).to_contain_text("问候语")

    agent = staff_page(chromium, base, "agent1")
    _, ticket = citizen_ticket(agent.context.request, base)
    agent.goto(f"{base}/console/tickets/{ticket}")
    claim_ticket(agent)
    agent.get_by_label("搜索知识库答案").fill("附加证明书怎么办理")
    agent.get_by_label("搜索知识库答案").press("Enter")
    hit = agent.locator("#kb-results li").first
    expect(hit).to_have_attribute("data-kb-id", re.compile("^apostille"))
    hit.get_by_role("button", name=re.compile("^插入")).click()
    reply = agent.get_by_label("回复市民")
    expect(reply).to_have_value(re.compile("附加证明书"))
    expect(reply).to_be_focused()
    agent.get_by_label("常用回复").select_option(label="问候语")
    agent.get_by_role("button", name="插入", exact=True).click()
    expect(reply).to_have_value(re.compile("很高兴为您服务"))
    admin.context.close()
    agent.context.close()


def test_search_earlier_tickets_and_english_console(browser_stack, chromium):
    _, base = browser_stack
    agent = staff_page(chromium, base, "agent2")
    session, first = citizen_ticket(agent.context.request, base, "我要人工客服")
    # Messages written during the ticket are kept with it (and searchable).
    agent.context.request.post(
        f"{base}/api/v1/messages", data={"session_id": session, "text": "关于护照认证的问题"}
    )
    agent.goto(f"{base}/console/tickets/{first}")
    claim_ticket(agent)
    agent.get_by_role("button", name=re.compile("结束人工服务")).click()
    expect(agent.locator("#ticket-state")).to_contain_text("已关闭")
    second = agent.context.request.post(
        f"{base}/api/v1/messages", data={"session_id": session, "text": "转人工"}
    ).json()["messages"]
    again = next(m["custom"]["ticket"] for m in second if (m.get("custom") or {}).get("ticket"))
    agent.goto(f"{base}/console/tickets/{again}")
    expect(agent.locator("#earlier-tickets")).to_contain_text(f"#{first}")

    agent.goto(f"{base}/console/search")
    agent.get_by_label("工单号或文字").fill("护照认证")
    agent.get_by_role("button", name="搜索").click()
    expect(agent.locator(f'#search-results tr[data-ticket="{first}"]')).to_be_visible()
    agent.get_by_label("工单号或文字").fill(f"#{again}")
    agent.get_by_role("button", name="搜索").click()
    expect(agent.locator("#search-results tbody tr")).to_have_count(1)

    agent.get_by_label("界面语言").select_option("en")
    agent.get_by_role("button", name="切换").click()
    expect(agent.get_by_role("heading", name="Search tickets")).to_be_visible()
    agent.goto(f"{base}/console")
    expect(agent.get_by_role("heading", name="Open tickets")).to_be_visible()
    assert agent.locator("html").get_attribute("lang") == "en"
    agent.get_by_label("Language").select_option("zh")
    agent.get_by_role("button", name="Switch").click()
    expect(agent.get_by_role("heading", name="待处理工单")).to_be_visible()
    agent.context.close()


def test_analytics_labels_are_readable_and_have_a_table_view(browser_stack, chromium, screenshots):
    _, base = browser_stack
    page = staff_page(chromium, base, "agent1")
    page.goto(f"{base}/console/analytics")
    expect(page.get_by_role("heading", name=re.compile("服务统计"))).to_be_visible()
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.chart svg text')].map(t => {
            const m = t.getScreenCTM();
            return parseFloat(getComputedStyle(t).fontSize) * (m ? m.a : 1);
        })"""
    )
    assert sizes and min(sizes) >= 12
    axis = page.locator("#chart-conversations svg text.axis")
    expect(axis.first).to_be_visible()
    assert axis.count() >= 3
    assert page.locator("#chart-conversations table th[scope=row]").count() >= 7
    expect(page.locator("#service-rating")).to_be_visible()
    expect(page.locator("#chart-first-reply")).to_be_visible()
    page.screenshot(path=str(screenshots / "console-analytics.png"), full_page=True)
    page.get_by_role("link", name="表格").click()
    expect(page.locator("#chart-conversations table")).to_be_visible()
    assert page.locator("main svg").count() == 0
    page.context.close()
