"""Start Rasa (trained model), the action server and the api once per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.stack import Stack, current_model, free_port, local_stack

# Free ports chosen per run, so parallel runs (and `make run`) never collide.
RASA_PORT, ACTION_PORT, API_PORT = free_port(), free_port(), free_port()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = current_model()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` first")
    running, _ = local_stack(
        tmp_path_factory.mktemp("e2e"),
        model=model,
        ports={"rasa": RASA_PORT, "actions": ACTION_PORT, "api": API_PORT},
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
