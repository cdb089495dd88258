"""Issue 17, staff console: server-side sessions (logout, password change, deactivation, "sign
out everywhere" end them; automatic refreshes do not extend them), atomic login failure counts
for known and unknown names alike, per-address throttling, user management, common passwords,
KB draft paths, audit of reads and user management, audit paging and filters."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from api.main import create_app
from core.conversation.relay import Relay
from core.db.engine import build_engine, session_factory, session_scope
from core.db.models import AuditLog, ConsoleSession, KbDraft, LoginFailure, StaffUser
from core.handoff.tickets import request_handoff
from core.kb.drafts import DraftError, approve_draft
from core.staff import users as staff
from tests.api.console_helpers import PASSWORD, RasaWithApi, add_user, form_csrf, login

NEW_PASSWORD = "a-different-long-secret"


@pytest.fixture
def rasa() -> RasaWithApi:
    return RasaWithApi()


def make_client(settings, sessions, rasa, **overrides) -> TestClient:
    settings = settings.model_copy(update=overrides)
    return TestClient(create_app(settings, relay=Relay(rasa.client(), sessions)))


@pytest.fixture
def client(settings, sessions, rasa):
    with make_client(settings, sessions, rasa) as c:
        yield c


@pytest.fixture
def second(settings, sessions, rasa):
    """Another browser."""
    with make_client(settings, sessions, rasa) as c:
        yield c


def csrf_of(client, path="/console"):
    return form_csrf(client.get(path).text)


def logged_in(client, response) -> bool:
    return client.get("/console", follow_redirects=False).status_code == 200


# --- sessions --------------------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(client, second, sessions):
    add_user(sessions, "agent1", "agent")
    login(client, "agent1")
    stolen = client.cookies.get("qw_console")
    client.post("/console/logout", data={"csrf_token": csrf_of(client)})
    second.cookies.set("qw_console", stolen, path="/console")  # a copied cookie replayed
    assert second.get("/console", follow_redirects=False).status_code == 303


def test_a_password_change_ends_the_other_sessions(client, second, sessions):
    add_user(sessions, "agent1", "agent")
    login(client, "agent1")
    login(second, "agent1")
    changed = client.post(
        "/console/password",
        data={
            "csrf_token": csrf_of(client, "/console/password"),
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 200 and "密码已修改" in changed.text
    assert client.get("/console", follow_redirects=False).status_code == 200  # this one stays
    assert second.get("/console", follow_redirects=False).status_code == 303
    assert login(second, "agent1").status_code == 401  # the old password is gone
    assert login(second, "agent1", NEW_PASSWORD).status_code == 303


def test_deactivation_and_sign_out_everywhere_end_sessions(client, second, sessions):
    add_user(sessions, "boss", "admin")
    add_user(sessions, "agent1", "agent")
    login(client, "boss")
    login(second, "agent1")
    agent_id = user_id(sessions, "agent1")
    token = csrf_of(client, "/console/users")
    client.post(f"/console/users/{agent_id}/signout", data={"csrf_token": token})
    assert second.get("/console", follow_redirects=False).status_code == 303
    login(second, "agent1")
    client.post(f"/console/users/{agent_id}/deactivate", data={"csrf_token": token})
    assert second.get("/console", follow_redirects=False).status_code == 303
    assert login(second, "agent1").status_code == 401  # reads like a wrong password
    client.post(f"/console/users/{agent_id}/activate", data={"csrf_token": token})
    assert login(second, "agent1").status_code == 303


def _age_session(sessions, seconds: int) -> None:
    with session_scope(sessions) as session:
        for row in session.scalars(select(ConsoleSession)):
            row.last_active_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)


def _last_active(sessions) -> dt.datetime:
    with session_scope(sessions) as session:
        return session.scalars(select(ConsoleSession.last_active_at)).one()


def test_automatic_refreshes_do_not_extend_the_idle_timeout(client, sessions, settings):
    add_user(sessions, "agent1", "agent")
    login(client, "agent1")
    idle = settings.console_session_idle_s
    _age_session(sessions, idle - 60)
    before = _last_active(sessions)
    poll = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"}
    assert client.get("/console/live", headers=poll).status_code == 200
    assert client.get("/console/fragments/queue", headers=poll).status_code == 200
    reload_by_itself = {"Sec-Fetch-Mode": "navigate"}  # no Sec-Fetch-User: not a person
    assert client.get("/console", headers=reload_by_itself).status_code == 200
    assert _last_active(sessions) == before
    _age_session(sessions, idle + 1)
    assert client.get("/console/live", headers=poll, follow_redirects=False).status_code == 303


def test_a_page_the_user_opens_renews_the_idle_time(client, sessions, settings):
    add_user(sessions, "agent1", "agent")
    login(client, "agent1")
    _age_session(sessions, settings.console_session_idle_s - 60)
    before = _last_active(sessions)
    clicked = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"}
    assert client.get("/console", headers=clicked).status_code == 200
    assert _last_active(sessions) > before


def test_the_cookie_holds_no_user_data_and_the_table_only_its_hash(client, sessions):
    add_user(sessions, "agent1", "agent")
    login(client, "agent1")
    cookie = client.cookies.get("qw_console")
    with session_scope(sessions) as session:
        stored = session.scalars(select(ConsoleSession.id)).one()
    assert cookie not in stored and len(stored) == 64 and "agent1" not in cookie


# --- logins ----------------------------------------------------------------------------------


def _error_page(response) -> str:
    return re.sub(r'value="[^"]+"', "", response.text)  # drop the per-response CSRF token


def test_unknown_names_and_wrong_passwords_read_and_lock_alike(client, sessions):
    add_user(sessions, "agent1", "agent")
    known = [login(client, "agent1", "wrong password!") for _ in range(5)]
    unknown = [login(client, "nobody-here", "wrong password!") for _ in range(5)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert [r.status_code for r in unknown] == [401, 401, 401, 401, 429]
    assert _error_page(known[0]) == _error_page(unknown[0])
    assert _error_page(known[-1]) == _error_page(unknown[-1])
    assert login(client, "nobody-here", "anything else").status_code == 429  # still locked


def test_login_failures_are_throttled_per_address(settings, sessions, rasa):
    with make_client(settings, sessions, rasa, login_address_max_failures=3) as c:
        statuses = [login(c, f"user-{i}", "wrong password!").status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert "此网络地址" in login(c, "user-9", "wrong password!").text


@pytest.mark.pg
def test_concurrent_failed_logins_on_postgresql_are_all_counted(pg_url):
    engine = build_engine(pg_url)
    factory = session_factory(engine)
    name = f"racer-{uuid.uuid4().hex[:8]}"
    with session_scope(factory) as session:
        staff.create_user(session, name, PASSWORD, "agent")
    n = 10
    barrier, results, lock = threading.Barrier(n), [], threading.Lock()

    def attempt(username: str) -> None:
        barrier.wait()
        with session_scope(factory) as session:  # as the login route: the failure is committed
            try:
                staff.authenticate(session, username, "wrong password!", dt.datetime.now(dt.UTC))
                outcome = "ok"
            except staff.LoginFailed:
                outcome = "failed"
            except staff.AccountLocked:
                outcome = "locked"
        with lock:
            results.append(outcome)

    try:
        for username in (name, f"ghost-{uuid.uuid4().hex[:8]}"):  # a real and an unknown name
            results.clear()
            threads = [threading.Thread(target=attempt, args=(username,)) for _ in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(results) == ["failed"] * 4 + ["locked"] * 6, (username, results)
    finally:
        with session_scope(factory) as session:
            session.execute(delete(LoginFailure))
            session.execute(delete(StaffUser).where(StaffUser.username == name))
        engine.dispose()


# --- user management ---------------------------------------------------------------------------


def user_id(sessions, username: str) -> int:
    with session_scope(sessions) as session:
        return session.scalars(select(StaffUser.id).where(StaffUser.username == username)).one()


def test_admins_change_roles_reset_passwords_and_are_audited(client, second, sessions):
    add_user(sessions, "boss", "admin")
    add_user(sessions, "agent1", "agent")
    login(client, "boss")
    login(second, "agent1")
    agent = user_id(sessions, "agent1")
    token = csrf_of(client, "/console/users")
    client.post(f"/console/users/{agent}/role", data={"csrf_token": token, "role": "editor"})
    assert second.get("/console/drafts").status_code == 200  # effective on the next request
    client.post(
        f"/console/users/{agent}/password", data={"csrf_token": token, "password": NEW_PASSWORD}
    )
    assert second.get("/console", follow_redirects=False).status_code == 303
    assert login(second, "agent1", NEW_PASSWORD).status_code == 303
    weak = client.post(
        f"/console/users/{agent}/password", data={"csrf_token": token, "password": "password123"}
    )
    assert weak.status_code == 422
    me = user_id(sessions, "boss")
    refused = client.post(f"/console/users/{me}/deactivate", data={"csrf_token": token})
    assert refused.status_code == 422  # not oneself (and never the last admin)
    with session_scope(sessions) as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor == "boss")).all()
    assert {"change_role", "reset_password"} <= set(actions)


@pytest.mark.parametrize(
    "password",
    ["password123", "1234567890", "Qwertyuiop", "woaini5201314", "aaaaaaaaaaaa", "agent1-is-me!"],
)
def test_common_and_guessable_passwords_are_refused(db_session, password):
    with pytest.raises(staff.StaffError):
        staff.create_user(db_session, "agent1", password, "agent")


def test_the_last_admin_stays_an_admin(db_session):
    boss = staff.create_user(db_session, "boss", PASSWORD, "admin")
    other = staff.create_user(db_session, "agent1", PASSWORD, "agent")
    with pytest.raises(staff.StaffError):
        staff.set_role(db_session, boss.id, "agent", by=other.id)
    with pytest.raises(staff.StaffError):
        staff.set_active(db_session, boss.id, False, dt.datetime.now(dt.UTC), by=other.id)


# --- KB drafts ---------------------------------------------------------------------------------


def _draft(session, topic: str, kb_id: str, kind: str = "new") -> int:
    draft = KbDraft(
        kb_id=kb_id,
        topic=topic,
        title="测试条目",
        questions=["怎么办"] * 8,
        answer="请以办公室最新通知为准。",
        sources=[],
        created_by="editor",
        kind=kind,
    )
    session.add(draft)
    session.flush()
    return draft.id


@pytest.mark.parametrize(
    "topic, kb_id, kind",
    [
        ("../outside", "planted_entry", "new"),
        ("apostille/../..", "planted_entry", "new"),
        ("..", "endpoints", "review"),  # would overwrite endpoints.yml beside kb/
        ("no_such_topic", "planted_entry", "new"),
    ],
)
def test_a_draft_cannot_write_outside_the_kb(db_session, tmp_path, topic, kb_id, kind):
    kb = tmp_path / "repo" / "kb"
    (kb / "apostille").mkdir(parents=True)
    (tmp_path / "repo" / "endpoints.yml").write_text("action_endpoint: {}\n", encoding="utf-8")
    draft_id = _draft(db_session, topic, kb_id, kind)
    with pytest.raises(DraftError):
        approve_draft(db_session, draft_id, kb, "editor", dt.date(2026, 12, 1))
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yml"))
    assert written == [tmp_path.joinpath("repo/endpoints.yml").relative_to(tmp_path)]
    assert (tmp_path / "repo" / "endpoints.yml").read_text() == "action_endpoint: {}\n"


def test_the_draft_form_refuses_a_topic_outside_the_kb(client, sessions):
    add_user(sessions, "editor1", "editor")
    login(client, "editor1")
    with session_scope(sessions) as session:
        draft_id = _draft(session, "apostille", "new_entry")
    page = client.get(f"/console/drafts/{draft_id}").text
    saved = client.post(
        f"/console/drafts/{draft_id}",
        data={
            "csrf_token": form_csrf(page),
            "kb_id": "new_entry",
            "topic": "../../tmp",
            "title": "x",
            "questions": "a\nb",
            "answer": "y",
            "action": "save",
        },
    )
    assert saved.status_code == 422
    with session_scope(sessions) as session:
        assert session.get(KbDraft, draft_id).topic == "apostille"


# --- audit -------------------------------------------------------------------------------------


def test_ticket_reads_are_audited_and_the_audit_page_pages_and_filters(client, sessions):
    add_user(sessions, "boss", "admin")
    with session_scope(sessions) as session:
        ticket = request_handoff(session, "web:someone", "citizen_request").ticket
        for i in range(60):
            session.add(AuditLog(actor=f"bot{i % 3}", action="noise", target=f"t{i}"))
    login(client, "boss")
    client.get(f"/console/tickets/{ticket}")
    page = client.get("/console/audit", params={"action": "view_ticket"}).text
    assert f"ticket:{ticket}" in page and "noise" not in page.split("<tbody>")[1]
    first = client.get("/console/audit", params={"action": "noise"}).text
    assert "第 1 / 2 页" in first and 'rel="next"' in first
    second = client.get("/console/audit", params={"action": "noise", "page": 2}).text
    rows = second.split("<tbody>")[1].count("<tr>")
    assert rows == 10 and 'rel="prev"' in second
    by_actor = client.get("/console/audit", params={"actor": "bot1", "target": "t1"}).text
    assert by_actor.split("<tbody>")[1].count("<tr>") == len(
        [i for i in range(60) if i % 3 == 1 and "t1" in f"t{i}"]
    )
