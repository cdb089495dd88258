"""Production mode: PostgreSQL tracker store and app DB, Redis lock store, two Rasa replicas,
and processes killed (SIGKILL) or a database crashed mid-conversation — nothing lost.

Each module-level stack runs on its own scratch database; the PostgreSQL-restart test runs a
private PostgreSQL server so it can crash it without touching the shared one.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import select, text

from core.conversation.replies import PAYLOAD_TYPES
from core.db.engine import build_engine, session_factory, session_scope
from core.db.models import HandoffMessage, HandoffTicket
from scripts.stack import (
    PROD_ENDPOINTS,
    Stack,
    current_model,
    free_port,
    local_stack,
    new_widget_session,
    rasa_auth,
    rasa_service,
)
from tests.e2e.prod import (
    ADMIN_URL,
    REDIS_URL,
    SENT,
    PrivateCluster,
    kill,
    restart,
    say,
    scratch_database,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.pg]


def _servers_available() -> str | None:
    """Why PostgreSQL or Redis cannot be used, or None."""
    try:
        engine = build_engine(ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None


@pytest.fixture(scope="module", autouse=True)
def _servers() -> None:
    problem = _servers_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL and Redis are required in CI: {problem}")
        pytest.skip(f"PostgreSQL/Redis not reachable: {problem}")


@dataclass
class Prod:
    stack: Stack
    database_url: str
    lock_prefix: str
    rasa: str  # replica 1 (the api talks to this one)
    rasa2: str  # replica 2
    api: str

    def widget(self, session_id: str, message: str) -> httpx.Response:
        SENT.add(message)
        return httpx.post(
            f"{self.api}/api/v1/messages",
            json={"session_id": session_id, "text": message},
            timeout=90,
        )

    def tracker(self, base: str, sender: str) -> dict:
        response = httpx.get(
            f"{base}/conversations/{sender}/tracker",
            headers=rasa_auth(self.stack.env["RASA_TOKEN"]),
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def sessions(self):  # type: ignore[no-untyped-def]
        return session_factory(build_engine(self.database_url))


def start_prod(work: Path, database_url: str, replicas: int) -> tuple[Stack, dict[str, int], str]:
    model = current_model()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` first")
    prefix = f"e2e{uuid.uuid4().hex[:8]}"
    stack, ports = local_stack(
        work,
        model=model,
        database_url=database_url,
        redis_url=REDIS_URL,
        extra_env={"REDIS_LOCK_PREFIX": prefix},
    )
    if replicas == 2:
        ports["rasa2"] = free_port()
        stack.services.insert(
            2,
            rasa_service("rasa2", model, ports["rasa2"], stack.env["RASA_TOKEN"], PROD_ENDPOINTS),
        )
    return stack, ports, prefix


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prod]:
    with scratch_database() as url:
        stack, ports, prefix = start_prod(tmp_path_factory.mktemp("prod"), url, replicas=2)
        try:
            stack.up(timeout_s=400)
            yield Prod(
                stack,
                url,
                prefix,
                f"http://127.0.0.1:{ports['rasa']}",
                f"http://127.0.0.1:{ports['rasa2']}",
                f"http://127.0.0.1:{ports['api']}",
            )
        finally:
            stack.down()


KNOWN_TYPES = PAYLOAD_TYPES


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def test_tracker_events_are_stored_in_postgresql(prod: Prod) -> None:
    who = sender()
    assert say(prod.rasa, who, "你好")
    with session_scope(prod.sessions()) as session:
        rows = session.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": who}
        ).scalar()
    assert rows and rows >= 3  # session start, user message, bot turn …


def test_two_replicas_serve_one_conversation_alternately(prod: Prod) -> None:
    who = sender()
    assert say(prod.rasa, who, "我想查询办理进度")[-1] == {
        "type": "status_prompt",
        "need": "reference",
    }
    assert say(prod.rasa2, who, "VA-2026-000123")[-1] == {
        "type": "status_prompt",
        "need": "verification",
    }
    status = say(prod.rasa, who, "5678")[-1]
    assert (status["type"], status["reference"]) == ("status", "VA-2026-000123")
    # Both replicas read the same tracker: same events, same slots.
    one, two = prod.tracker(prod.rasa, who), prod.tracker(prod.rasa2, who)
    assert one["events"] == two["events"]
    assert two["slots"]["verified_case"] == "VA-2026-000123"
    assert two["active_loop"] in ({}, None) or not two["active_loop"].get("name")


def test_concurrent_messages_on_both_replicas_are_serialised_by_the_redis_lock(
    prod: Prod,
) -> None:
    who, n = sender(), 12
    client = redis.Redis.from_url(REDIS_URL)
    seen_locks: set[bytes] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen_locks.update(client.keys(f"{prod.lock_prefix}:lock:*"))

    def send(i: int) -> None:
        say(prod.rasa if i % 2 else prod.rasa2, who, f"附加证明书怎么办理 {i}")

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    watcher.join()
    assert seen_locks, "no conversation lock was ever taken in Redis"
    events = prod.tracker(prod.rasa2, who)["events"]
    users = [e for e in events if e["event"] == "user"]
    assert len(users) == n
    # Serialised: every user turn is answered and back to listening before the next begins.
    kinds = [
        "user" if e["event"] == "user" else "listen"
        for e in events
        if e["event"] == "user" or (e["event"] == "action" and e.get("name") == "action_listen")
    ]
    assert kinds[kinds.index("user") :] == ["user", "listen"] * n


def ticket_texts(prod: Prod, sender_id: str) -> list[str]:
    with session_scope(prod.sessions()) as session:
        return list(
            session.scalars(
                select(HandoffMessage.text)
                .join(HandoffTicket, HandoffMessage.ticket_id == HandoffTicket.id)
                .where(HandoffTicket.sender_id == sender_id, HandoffMessage.author == "citizen")
                .order_by(HandoffMessage.id)
            )
        )


def test_rasa_killed_mid_conversation_resumes_and_loses_nothing(prod: Prod) -> None:
    who = sender()
    assert say(prod.rasa, who, "查询进度")[-1]["need"] == "reference"
    assert say(prod.rasa, who, "LA-2026-000456")[-1]["need"] == "verification"

    # Killed while a widget message is in flight: answered, or kept for staff — never dropped.
    flying = new_widget_session(prod.api)
    result: dict[str, httpx.Response] = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("r", prod.widget(flying, "附加证明书需要什么材料"))
    )
    thread.start()
    kill(prod.stack, "rasa")
    thread.join(timeout=120)
    reply = result["r"]
    assert reply.status_code == 200
    kinds = [m["custom"]["type"] for m in reply.json()["messages"] if m["custom"]]
    assert kinds and kinds[-1] in ("kb_answer", "suggestions", "unavailable")
    if kinds[-1] == "unavailable":
        assert ticket_texts(prod, f"web:{flying}") == ["附加证明书需要什么材料"]

    # Accepted while Rasa is down: parked in a ticket for staff, with the citizen's words.
    down = new_widget_session(prod.api)
    reply = prod.widget(down, "我想咨询回国定居")
    assert reply.status_code == 200
    payload = reply.json()["messages"][0]["custom"]
    assert payload["type"] == "unavailable" and payload["ticket"]
    assert ticket_texts(prod, f"web:{down}") == ["我想咨询回国定居"]
    ready = httpx.get(f"{prod.api}/readyz", timeout=30)
    assert ready.status_code == 503 and ready.json()["rasa"] == "unavailable"

    restart(prod.stack, "rasa")
    # The form continues where it was: the next answer completes the verification.
    status = say(prod.rasa, who, "4321")[-1]
    assert (status["type"], status["reference"]) == ("status", "LA-2026-000456")
    # The parked citizen stays with staff (the bot stays silent while the ticket is open).
    again = prod.widget(down, "请问有人吗")
    assert "handoff" in [m["custom"]["type"] for m in again.json()["messages"] if m["custom"]]
    assert ticket_texts(prod, f"web:{down}") == ["我想咨询回国定居", "请问有人吗"]
    assert httpx.get(f"{prod.api}/readyz", timeout=30).status_code == 200


def test_action_server_killed_hands_the_message_to_staff_and_recovers(prod: Prod) -> None:
    kill(prod.stack, "actions")
    try:
        ready = httpx.get(f"{prod.api}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["action_server"] == "unavailable"
        session_id = new_widget_session(prod.api)
        reply = prod.widget(session_id, "附加证明书怎么办理")
        assert reply.status_code == 200
        payload = reply.json()["messages"][-1]["custom"]
        assert payload["type"] == "unavailable" and payload["ticket"]
        assert ticket_texts(prod, f"web:{session_id}") == ["附加证明书怎么办理"]
    finally:
        restart(prod.stack, "actions")
    fresh = prod.widget(new_widget_session(prod.api), "附加证明书怎么办理")
    assert fresh.json()["messages"][-1]["custom"]["type"] in ("kb_answer", "suggestions")


def test_postgresql_crash_and_restart_loses_no_accepted_message(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    cluster = PrivateCluster(Path(f"/tmp/qiaowu-pg-{uuid.uuid4().hex[:8]}"), free_port())
    cluster.init()
    cluster.start()
    stack = None
    try:
        url = cluster.create_database("qiaowu")
        stack, ports, _ = start_prod(tmp_path_factory.mktemp("pgcrash"), url, replicas=1)
        stack.up(timeout_s=400)
        api = f"http://127.0.0.1:{ports['api']}"
        session_id = new_widget_session(api)

        def widget(message: str) -> httpx.Response:
            return httpx.post(
                f"{api}/api/v1/messages",
                json={"session_id": session_id, "text": message},
                timeout=90,
            )

        def last(reply: httpx.Response) -> dict:
            assert reply.status_code == 200, reply.text
            return next(m["custom"] for m in reply.json()["messages"] if m["custom"])

        assert last(widget("我要查询办理进度")) == {"type": "status_prompt", "need": "reference"}
        # Restarted between two turns, no traffic meanwhile: the next turn still finds the form
        # (pooled connections are checked on checkout, in Rasa's tracker store and in the app).
        cluster.crash()
        cluster.start()
        assert last(widget("AP-2026-000789")) == {"type": "status_prompt", "need": "verification"}

        cluster.crash()
        # Down: a KB question is still answered (Rasa falls back to an in-memory tracker); a
        # message that needs the database is refused with 503 "please resend" or answered —
        # never accepted and then dropped. Readiness says what is wrong.
        kb = widget("附加证明书怎么办理")
        assert kb.status_code == 200
        assert last(kb)["type"] in ("kb_answer", "suggestions")
        during = widget("2468")
        if during.status_code == 503:
            assert during.json()["error"]["code"] == "unavailable"
        else:
            assert last(during)["type"] in KNOWN_TYPES
        ready = httpx.get(f"{api}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["database"] == "unavailable"

        cluster.start()
        wait_until(lambda: httpx.get(f"{api}/readyz", timeout=30).status_code == 200)
        # The citizen resends; the form resumes from the tracker that survived the crash.
        status = last(widget("2468"))
        assert (status["type"], status["reference"]) == ("status", "AP-2026-000789")
    finally:
        if stack is not None:
            stack.down()
        cluster.destroy()


def test_no_process_logged_what_citizens_wrote(prod: Prod) -> None:
    """After the kills and failures above, no log holds a citizen's words or phone digits."""
    texts = {t for t in SENT if len(t) >= 4 and any("\u4e00" <= c <= "\u9fff" for c in t)}
    texts |= {"5678", "4321"}  # phone digits given as verification
    assert len(texts) >= 5
    logs = "\n".join(
        s.log_path.read_text(errors="replace") for s in prod.stack.services if s.log_path
    )
    assert logs  # the processes did log
    def found(text: str) -> bool:
        if text.isdigit():  # four digits alone, not inside a timestamp ("04:34:44.432172")
            return re.search(rf"(?<![\d.]){text}(?!\d)", logs) is not None
        return text in logs or json.dumps(text)[1:-1] in logs

    leaked = sorted(t for t in texts if found(t))
    assert not leaked
