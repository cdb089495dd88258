"""The Rasa add-ons, exercised inside the Rasa venv (.venv-rasa) in a subprocess."""

from __future__ import annotations

import json
import subprocess

import pytest

from scripts.stack import ROOT

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = r"""
import json, logging
import rasa_addons
from rasa.core.actions.action import RemoteAction
from rasa.core.channels import rest
from rasa.utils.log_utils import configure_structlog

configure_structlog(logging.INFO)
try:
    raise RuntimeError("tracker store down")
except RuntimeError:
    rest.structlogger.exception("rest.message.received.failure", text="我的护照号是E12345678")

action = RemoteAction("action_answer_kb", None)
ok = action._validate_action_result({"events": [], "responses": [{"text": "您好"}]})
try:
    action._validate_action_result({"events": "not a list"})
    bad = "accepted"
except Exception as exc:
    bad = type(exc).__name__
print("RESULT " + json.dumps({"ok": ok, "bad": bad}))
"""


@pytest.fixture(scope="module")
def run_in_rasa() -> subprocess.CompletedProcess[str]:
    if not RASA_PY.exists():
        pytest.fail("the Rasa venv is missing: run `make install`")
    return subprocess.run(
        [str(RASA_PY), "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin"},
    )


def test_rest_channel_failures_are_logged_without_the_message(run_in_rasa):
    output = run_in_rasa.stdout + run_in_rasa.stderr
    assert run_in_rasa.returncode == 0, output[-2000:]
    line = next(
        json.loads(part)
        for part in output.splitlines()
        if part.startswith("{") and "rest.message.received.failure" in part
    )
    assert line["text_chars"] == len("我的护照号是E12345678")
    assert line["error"] == "RuntimeError"
    assert "E12345678" not in output and "护照号" not in output


def test_cached_action_result_validation_still_rejects_bad_replies(run_in_rasa):
    result = next(
        json.loads(line.removeprefix("RESULT "))
        for line in run_in_rasa.stdout.splitlines()
        if line.startswith("RESULT ")
    )
    assert result == {"ok": True, "bad": "ValidationError"}
