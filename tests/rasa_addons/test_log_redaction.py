"""Rasa's own log lines carry no sender ids and no text of a message typed as an intent
(rasa_addons.patches): run inside the Rasa venv, through Rasa's real logging and warning paths."""

from __future__ import annotations

import subprocess

from scripts.stack import ROOT
from tests.factories import shows

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
SCRIPT = r"""
import logging, sys, warnings
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(name)s %(message)s")
logging.captureWarnings(True)
warnings.simplefilter("always")
import rasa_addons.patches as patches
patches.apply()
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
domain = Domain.from_yaml('version: "3.1"\nintents: [ask_case_status]\nentities: [case_reference]')
secret = '/ask_case_status{"case_reference": "VA-2026-000123", "verification": "5678"}'
YAMLStoryReader.unpack_regex_message(
    __import__("rasa.shared.nlu.training_data.message", fromlist=["Message"]).Message(
        data={"text": secret}), domain=domain)
logging.getLogger("rasa.core.processor").warning(
    "Circuit breaker tripped. Stopped predicting more actions for sender '%s'.",
    "web:w6b0f827cQSLLU_F_Isession")
logging.getLogger("rasa.core.processor").warning(
    f"Circuit breaker tripped. Stopped predicting more actions for sender 'tg:123456789'.")
logging.getLogger("other.library").warning("sender 'kept-as-is'")
"""


def test_rasa_log_lines_lose_sender_ids_and_intent_message_text():
    run = subprocess.run(
        [str(RASA_PY), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout + run.stderr
    assert "Failed to parse arguments in line (redacted). Expected entities" in out
    assert "Circuit breaker tripped" in out and out.count("for sender '#") == 2
    for leaked in ("5678", "VA-2026-000123", "w6b0f827cQSLLU", "123456789"):
        assert not shows(leaked, out), leaked
    assert "sender 'kept-as-is'" in out  # other libraries' records are left alone
