"""axe-core (WCAG 2.1 A/AA) on every console page and on the widget (open, with an answer, with a
status card, during a handoff): any serious or critical violation fails the test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    WAIT_MS,
    ask,
    audit,
    bot_messages,
    citizen_ticket,
    claim_ticket,
    expect_patient,
    open_widget,
    staff_login,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _patient_expect() -> None:
    expect_patient()


def test_every_console_page_passes_axe(browser_stack, chromium, axe_source):
    _, base = browser_stack
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    found = []
    page.goto(f"{base}/console/login")
    found += audit(page, axe_source, "login")
    staff_login(page, base, "admin1")
    _, ticket = citizen_ticket(context.request, base)
    _, urgent = citizen_ticket(context.request, base, "我在国外被绑架了，救命")
    page.goto(f"{base}/console")
    expect(page.locator(f'tr[data-ticket="{urgent}"]')).to_be_visible()
    found += audit(page, axe_source, "queue")
    page.goto(f"{base}/console/tickets/{ticket}")
    claim_ticket(page)
    page.get_by_label("搜索知识库答案").fill("领事认证")
    page.get_by_label("搜索知识库答案").press("Enter")
    expect(page.locator("#kb-results li").first).to_be_visible()
    found += audit(page, axe_source, "ticket (claimed, with KB results)")
    page.get_by_role("button", name=re.compile("结束人工服务")).click()
    expect(page.locator("#ticket-state")).to_contain_text("已关闭")
    found += audit(page, axe_source, "ticket (closed)")
    page.get_by_role("button", name="转为知识库条目草稿").click()
    expect(page.locator("#draft-status")).to_be_visible()
    found += audit(page, axe_source, "draft")
    for path in (
        "/console/search?q=转人工",
        "/console/analytics",
        "/console/analytics?view=table",
        "/console/drafts",
        "/console/review",
        "/console/replies",
        "/console/audit",
        "/console/users",
    ):
        page.goto(f"{base}{path}")
        found += audit(page, axe_source, path)
    # The English console too.
    page.get_by_label("界面语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.goto(f"{base}/console")
    found += audit(page, axe_source, "queue (English)")
    page.get_by_label("Language").select_option("zh")
    page.get_by_role("button", name="Switch").click()
    context.close()
    assert found == []


def test_widget_passes_axe_open_answered_status_and_handoff(browser_stack, chromium, axe_source):
    _, base = browser_stack
    context = chromium.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    found = []
    page.goto(f"{base}/")
    open_widget(page)
    found += audit(page, axe_source, "widget open")
    ask(page, "附加证明书怎么办理？")
    expect(bot_messages(page, "kb_answer").first).to_be_visible()
    found += audit(page, axe_source, "widget with an answer")
    ask(page, "查询进度")
    expect(bot_messages(page, "status_prompt")).to_have_count(1)
    ask(page, "VA-2026-000123")
    expect(bot_messages(page, "status_prompt")).to_have_count(2)
    ask(page, "5678")
    expect(bot_messages(page, "status").first).to_be_visible()
    found += audit(page, axe_source, "widget with a status card")
    page.get_by_role("button", name="转人工服务").click()
    expect(bot_messages(page, "handoff").first).to_be_visible()
    found += audit(page, axe_source, "widget during a handoff")
    page.get_by_role("button", name="开始新对话").click()
    found += audit(page, axe_source, "widget asking to confirm a new conversation")
    context.close()

    english = chromium.new_context(viewport={"width": 320, "height": 640}, locale="en-GB")
    page = english.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{base}/en")
    open_widget(page, "Qiaowu Assistant")
    found += audit(page, axe_source, "English widget at 320 px")
    english.close()
    assert found == []
