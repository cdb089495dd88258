"""Rasa's REST webhook through SafeRestInput (a Sanic server in the Rasa venv with just the
channel, no model): the shared secret in production and the message length limit."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from scripts.stack import ROOT, free_port

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
SERVER = r"""
import sys
from sanic import Sanic
from rasa_addons.channels import SafeRestInput

async def on_new_message(message):
    await message.output_channel.send_text_message(message.sender_id, f"got {len(message.text)}")

app = Sanic("channel_test")
app.blueprint(SafeRestInput().blueprint(on_new_message), url_prefix="/webhooks/rest")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False, workers=1)
"""


def _serve(env: dict[str, str]) -> Iterator[str]:
    if not RASA_PY.exists():
        pytest.fail("the Rasa venv is missing: run `make install`")
    port = free_port()
    proc = subprocess.Popen(
        [str(RASA_PY), "-c", SERVER, str(port)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/webhooks/rest/", timeout=1)
            break
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None:
                pytest.fail(proc.stderr.read().decode()[-2000:] if proc.stderr else "exited")
            time.sleep(0.3)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def production() -> Iterator[str]:
    yield from _serve(
        {"APP_ENV": "production", "RASA_WEBHOOK_SECRET": "s" * 24, "MAX_MESSAGE_CHARS": "2000"}
    )


@pytest.fixture(scope="module")
def production_without_secret() -> Iterator[str]:
    yield from _serve({"APP_ENV": "production"})


_MISSING = object()


def post(url: str, message: object, secret: str | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Webhook-Secret"] = secret
    fields = {"sender": "t1"} if message is _MISSING else {"sender": "t1", "message": message}
    body = json.dumps(fields).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_the_api_and_the_bots_get_through_with_the_secret(production):
    status, body = post(production, "你好", secret="s" * 24)
    assert status == 200 and body == [{"recipient_id": "t1", "text": "got 2"}]


@pytest.mark.parametrize("secret", [None, "", "s" * 23, "x" * 24])
def test_anyone_else_is_refused_in_production(production, secret):
    assert post(production, "你好", secret=secret)[0] == 403


def test_production_without_a_configured_secret_refuses_everything(production_without_secret):
    assert post(production_without_secret, "你好", secret="anything")[0] == 403


def test_a_200000_character_message_is_refused_before_the_pipeline(production):
    status, body = post(production, "查" * 200_000, secret="s" * 24)
    assert status == 413 and "longer than 2000" in body["reason"]
    assert post(production, "查" * 2000, secret="s" * 24)[0] == 200
    assert post(production, "查" * 2001, secret="s" * 24)[0] == 413


@pytest.mark.parametrize("message", [_MISSING, None, 12, ["你好"]])
def test_a_body_without_a_string_message_gets_400(production, message):
    # A missing message reached the NLU pipeline as None and failed there (no reply, an error log).
    status, body = post(production, message, secret="s" * 24)
    assert status == 400 and body["reason"] == "message must be a string"
