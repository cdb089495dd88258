"""Editors turn a resolved ticket into a KB draft; approval writes valid YAML to kb/."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from api.routes.console import i18n
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import AuditLog, HandoffTicket, KbDraft
from core.handoff import store
from core.handoff.tickets import request_handoff, route_to_open_ticket
from core.kb import drafts, load_kb
from tests.api.console_helpers import RasaWithApi, add_user, form_csrf, login
from tests.conftest import ROOT

QUESTIONS = [
    "外国驾照在国内能用吗",
    "国外驾照怎么换国内驾照",
    "外国驾驶证可以换中国驾照吗",
    "海外驾照回国能开车吗",
    "國外駕照能換國內的嗎",
    "can I use my foreign driving licence in China",
    "在国外考的驾照回来怎么办",
    "境外驾驶证换证去哪里办",
]


@pytest.fixture
def kb_dir(tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", copy)
    return copy


@pytest.fixture
def client(settings, sessions, kb_dir):
    settings = settings.model_copy(update={"kb_dir": kb_dir})
    relay = Relay(RasaWithApi().client(), sessions)
    with TestClient(create_app(settings, relay=relay), raise_server_exceptions=False) as c:
        yield c


def closed_ticket(sessions) -> int:
    with session_scope(sessions) as session:
        info = request_handoff(session, "web:drafting-1", "citizen_request")
        route_to_open_ticket(session, "web:drafting-1", "外国驾照在国内能用吗")
        ticket = session.get(HandoffTicket, info.ticket)
        store.add_message(session, ticket, "staff", "驾驶证事宜请咨询公安交通管理部门。")
        store.close_ticket(session, ticket, dt.datetime.now(dt.UTC))
        return info.ticket


def start_draft(client, ticket_id) -> tuple[str, str]:
    token = form_csrf(client.get(f"/console/tickets/{ticket_id}").text)
    response = client.post(
        f"/console/tickets/{ticket_id}/draft", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    return response.headers["location"], token


def test_editor_drafts_and_approves_a_valid_entry(client, sessions, kb_dir):
    add_user(sessions, "editor1", "editor")
    login(client, "editor1")
    location, token = start_draft(client, closed_ticket(sessions))
    form = client.get(location).text
    assert "外国驾照在国内能用吗" in form and "公安交通管理部门" in form
    response = client.post(
        location,
        data={
            "csrf_token": token,
            "kb_id": "foreign_driving_licence",
            "topic": "other_services",
            "title": "外国驾照在国内能用吗？",
            "questions": "\n".join(QUESTIONS),
            "answer": "驾驶证换领不属于本办职责，请咨询当地公安机关交通管理部门。",
            # A deep link on an official host: bare home pages are refused (kb/sources_policy.yml).
            "sources": (
                "《中华人民共和国出境入境管理法》 | "
                "https://www.nia.gov.cn/n741440/n741547/c757592/content.html"
            ),
            "action": "approve",
        },
    )
    assert response.status_code == 200 and "已批准" in response.text
    path = kb_dir / "other_services" / "foreign_driving_licence.yml"
    assert path.exists()
    entry = load_kb(kb_dir).entries["foreign_driving_licence"]
    assert entry.questions == QUESTIONS and str(entry.sources[0].url).startswith("https://")
    with session_scope(sessions) as session:
        assert session.scalar(select(KbDraft)).status == "approved"
        actions = session.scalars(select(AuditLog.action)).all()
    assert {"create_kb_draft", "save_kb_draft", "approve_kb_draft"} <= set(actions)


def test_invalid_draft_is_not_written(client, sessions, kb_dir):
    add_user(sessions, "editor1", "editor")
    login(client, "editor1")
    location, token = start_draft(client, closed_ticket(sessions))
    response = client.post(
        location,
        data={
            "csrf_token": token,
            "kb_id": "too_few_questions",
            "topic": "other_services",
            "title": "问题",
            "questions": "只有一个问法",
            "answer": "答复",
            "sources": "",
            "action": "approve",
        },
    )
    assert response.status_code == 422
    assert re.search(r"questions|sources", response.text)
    assert not (kb_dir / "other_services" / "too_few_questions.yml").exists()
    with session_scope(sessions) as session:
        assert session.scalar(select(KbDraft)).status == "draft"


def test_agents_cannot_draft(client, sessions):
    add_user(sessions, "agent1", "agent")
    login(client, "agent1")
    ticket_id = closed_ticket(sessions)
    token = form_csrf(client.get("/console").text)
    response = client.post(f"/console/tickets/{ticket_id}/draft", data={"csrf_token": token})
    assert response.status_code == 403
    assert client.get("/console/drafts").status_code == 403


# --- sources: the allow-list of `make kb` (kb/sources_policy.yml), secondary with a reason ------

FORM = {
    "kb_id": "foreign_driving_licence",
    "topic": "other_services",
    "title": "外国驾照在国内能用吗？",
    "questions": "\n".join(QUESTIONS),
    "answer": "驾驶证换领不属于本办职责，请咨询当地公安机关交通管理部门。",
}
OFFICIAL = (
    "《中华人民共和国出境入境管理法》 | https://www.nia.gov.cn/n741440/n741547/c757592/content.html"
)
REPRINT = "驾照换证问答（第三方整理） | https://example.com/licence-faq"
REASON = "未找到公安交通管理部门的原页，只用于说明换证由公安机关办理"


def test_a_source_on_an_unofficial_host_is_refused_with_a_clear_message(client, sessions, kb_dir):
    add_user(sessions, "editor1", "editor")
    login(client, "editor1")
    location, token = start_draft(client, closed_ticket(sessions))
    response = client.post(
        location,
        data={
            **FORM,
            "csrf_token": token,
            "sources": f"{OFFICIAL}\n{REPRINT}",
            "action": "approve",
        },
    )
    assert response.status_code == 422
    assert "依据第 2 行：example.com 不在官方网站名单（kb/sources_policy.yml）上" in response.text
    assert "在行末加“ | 理由”标为次要来源" in response.text
    assert "licence-faq" in response.text  # what the editor typed is still in the form
    assert not (kb_dir / "other_services" / "foreign_driving_licence.yml").exists()
    with session_scope(sessions) as session:
        draft = session.scalar(select(KbDraft))
        assert draft.status == "draft" and draft.sources == []


def test_a_bare_home_page_is_refused_even_on_an_official_host(client, sessions):
    add_user(sessions, "editor1", "editor")
    login(client, "editor1")
    location, token = start_draft(client, closed_ticket(sessions))
    response = client.post(
        location,
        data={
            **FORM,
            "csrf_token": token,
            "sources": "国家法律法规数据库 | https://flk.npc.gov.cn/",
            "action": "save",
        },
    )
    assert response.status_code == 422
    assert "依据第 1 行：https://flk.npc.gov.cn/ 是网站首页" in response.text


def test_a_secondary_source_with_a_reason_is_saved_and_written_to_the_entry(
    client, sessions, kb_dir
):
    add_user(sessions, "editor1", "editor")
    login(client, "editor1")
    location, token = start_draft(client, closed_ticket(sessions))
    response = client.post(
        location,
        data={
            **FORM,
            "csrf_token": token,
            "sources": f"{OFFICIAL}\n{REPRINT} | {REASON}",
            "action": "save",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    form = client.get(location).text
    assert f"licence-faq | {REASON}" in form  # the form shows the reason back
    response = client.post(
        location,
        data={
            **FORM,
            "csrf_token": token,
            "sources": f"{OFFICIAL}\n{REPRINT} | {REASON}",
            "action": "approve",
        },
    )
    assert response.status_code == 200 and "已批准" in response.text
    official, reprint = load_kb(kb_dir).entries["foreign_driving_licence"].sources
    assert not official.secondary and official.reason is None
    assert reprint.secondary and reprint.reason == REASON
    assert str(reprint.url) == "https://example.com/licence-faq"


def test_source_problems_read_in_english_on_the_english_console():
    policy = drafts.load_source_policy(ROOT / "kb")
    sources = drafts.parse_sources(
        f"无链接 | 不是网址\n{REPRINT}\n国家法律法规数据库 | https://flk.npc.gov.cn/"
    )
    problems = drafts.source_problems(sources, policy)
    assert len(problems) == 3
    english = [i18n.translate(p, "en") for p in problems]
    assert english[0].startswith("Source line 1: write “title | https://link”")
    assert english[1].startswith("Source line 2: example.com is not on the list of official sites")
    assert english[2].startswith("Source line 3: https://flk.npc.gov.cn/ is a home page")
    assert not any(re.search(r"[\u4e00-\u9fff]", e) for e in english)


def test_parse_and_format_sources_round_trip_a_reason():
    text = f"{OFFICIAL}\n{REPRINT} | {REASON}"
    sources = drafts.parse_sources(text)
    assert sources[0] == {
        "title": "《中华人民共和国出境入境管理法》",
        "url": "https://www.nia.gov.cn/n741440/n741547/c757592/content.html",
    }
    assert sources[1]["secondary"] is True and sources[1]["reason"] == REASON
    assert drafts.format_sources(sources) == text


def test_a_review_keeps_secondary_sources_and_an_edited_reason(sessions, kb_dir):
    kb = load_kb(kb_dir)
    kb_id = "travel_registration_safety"  # cites a reprint as secondary
    entry = kb.entries[kb_id]
    assert any(s.secondary for s in entry.sources)
    with session_scope(sessions) as session:
        draft = drafts.draft_for_review(session, kb, kb_id, "editor1")
        shown = drafts.format_sources(draft.sources)
        edited = shown.replace(entry.sources[-1].reason, "编辑更新的理由：原页仍未找到")
        fields = drafts.DraftFields(
            kb_id,
            entry.topic,
            entry.title,
            list(entry.questions),
            entry.answer,
            drafts.parse_sources(edited),
        )
        drafts.update_draft(session, draft.id, fields, drafts.load_source_policy(kb_dir))
        drafts.approve_draft(session, draft.id, kb_dir, "editor1", dt.date.today())
    written = load_kb(kb_dir).entries[kb_id]
    assert written.sources[-1].secondary
    assert written.sources[-1].reason == "编辑更新的理由：原页仍未找到"
    assert written.last_reviewed == dt.date.today()
