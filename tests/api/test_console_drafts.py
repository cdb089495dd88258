"""Editors turn a resolved ticket into a KB draft; approval writes valid YAML to kb/."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import AuditLog, HandoffTicket, KbDraft
from core.handoff import store
from core.handoff.tickets import request_handoff, route_to_open_ticket
from core.kb import load_kb
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
