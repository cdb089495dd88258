"""Start Rasa (trained model), the action server and the api once per test session."""

from __future__ import annotations

import secrets
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.db.engine import build_engine, session_factory, session_scope
from core.db.migrate import upgrade
from core.seed import seed_demo_cases
from core.settings import DEV_SALT
from scripts.stack import Stack, build_stack, current_model, write_endpoints


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Free ports chosen per run, so parallel runs (and `make run`) never collide.
RASA_PORT, ACTION_PORT, API_PORT = _free_port(), _free_port(), _free_port()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = current_model()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` first")
    work = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{work / 'app.db'}"
    upgrade(url)
    import datetime as dt

    with session_scope(session_factory(build_engine(url))) as session:
        seed_demo_cases(session, DEV_SALT, dt.datetime.now(dt.UTC))
    endpoints = write_endpoints(
        work / "endpoints.yml", action_port=ACTION_PORT, tracker_db=work / "tracker.db"
    )
    running = build_stack(
        model=model,
        database_url=url,
        rasa_port=RASA_PORT,
        action_port=ACTION_PORT,
        api_port=API_PORT,
        rasa_token=secrets.token_urlsafe(16),
        endpoints=endpoints,
        log_dir=work / "log",
        extra_env={"HASH_SALT": DEV_SALT, "LOG_SALT": DEV_SALT},
    )
    try:
        running.up(timeout_s=400)
        yield running
    finally:
        running.down()


@pytest.fixture(scope="session")
def database_url(stack: Stack) -> str:
    return stack.env["DATABASE_URL"]


class Conversation:
    """One sender talking to Rasa's REST webhook."""

    def __init__(self, base: str, sender: str):
        self.base, self.sender = base, sender

    def say(self, text: str) -> list[dict]:
        response = httpx.post(
            f"{self.base}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def payloads(self, text: str) -> list[dict]:
        return [m["custom"] for m in self.say(text) if "custom" in m]


@pytest.fixture
def convo(stack: Stack) -> Conversation:
    return Conversation(f"http://127.0.0.1:{RASA_PORT}", f"e2e-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def log_text(stack: Stack) -> callable:
    def read() -> str:
        return "\n".join(
            s.log_path.read_text(errors="replace")
            for s in stack.services
            if s.log_path and Path(s.log_path).exists()
        )

    return read
