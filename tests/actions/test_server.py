"""The action server (`python -m actions`) runs actions only for callers with the shared secret
Rasa sends, and its errors do not echo the request (the citizen's messages) back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.stack import ROOT, free_port

SECRET = "action-secret-for-tests-0123"


SERVED: dict[str, int] = {}


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from core.db.migrate import upgrade

    work = tmp_path_factory.mktemp("actions")
    url = f"sqlite:///{work / 'app.db'}"
    upgrade(url)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "ACTION_SERVER_SECRET": SECRET,
        "KB_DENSE": "false",
        "KB_CACHE_DIR": str(work / "cache"),
        "SANIC_HOST": "127.0.0.1",
    }
    log = (work / "actions.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(Path(work / "actions.log").read_text()[-3000:])
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            break
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    SERVED["pid"] = proc.pid
    try:
        yield base
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)


def call(base: str, body: bytes, secret: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Action-Secret"] = secret
    request = urllib.request.Request(f"{base}/webhook", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def action_call(name: str, slots: dict[str, object]) -> bytes:
    tracker = {
        "sender_id": "web:forged",
        "slots": slots,
        "latest_message": {"text": "有进展通知我", "intent": {"name": "subscribe_case"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return json.dumps({"next_action": name, "tracker": tracker, "domain": {}}).encode()


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET[:-1]])
def test_calls_without_the_shared_secret_run_no_action(action_server, secret):
    body = action_call("action_subscribe_case", {"verified_case": "VA-2026-000123"})
    status, reply = call(action_server, body, secret)
    assert status == 401 and reply == {"error": "unauthorized"}


def test_rasa_with_the_secret_is_served(action_server):
    status, reply = call(action_server, action_call("action_unsubscribe_case", {}), SECRET)
    assert status == 200
    assert reply["responses"][0]["custom"]["type"] == "subscription"


def test_a_forged_verified_case_slot_does_not_subscribe(action_server):
    body = action_call("action_subscribe_case", {"verified_case": "VA-2026-000123"})
    status, reply = call(action_server, body, SECRET)
    assert status == 200
    assert reply["responses"][0]["custom"] == {"type": "status_prompt", "need": "reference"}


def test_errors_do_not_echo_the_request(action_server):
    status, reply = call(action_server, '["我的护照号是E12345678"]'.encode(), SECRET)
    assert status == 500 and reply == {"error": "internal"}


def test_one_worker_is_served_in_one_process(action_server):
    # rasa-sdk's own run keeps a manager process (every action imported, ~170 MB) beside the
    # worker; actions.server.serve serves the one worker in the started process itself.
    pid = SERVED["pid"]
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children == []
    assert urllib.request.urlopen(f"{action_server}/health", timeout=5).status == 200
