"""The tracker store wrapper keeps verification secrets out of Rasa's `events` table (run inside
the Rasa venv on a SQLite file, which the test then reads byte for byte)."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

from scripts.stack import ROOT
from tests.factories import shows

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
SCRIPT = r"""
import asyncio, sys
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_addons.tracker_store import ResilientSQLTrackerStore

store = ResilientSQLTrackerStore(dialect="sqlite", db=sys.argv[1])

def user(text, intent="inform"):
    return UserUttered(text, {"name": intent, "confidence": 0.9},
                       parse_data={"text": text, "intent": {"name": intent, "confidence": 0.9},
                                   "entities": [{"entity": "x", "value": text}]})

tracker = DialogueStateTracker("web:redact-test", slots=[])
first = [
    ActionExecuted("action_listen"),
    user("查询进度 VA-2026-000123 手机13800005678", "ask_case_status"),
    ActiveLoop("case_status_form"),
    SlotSet("case_reference", "VA-2026-000123"),
    SlotSet("requested_slot", "phone_last4"),
    ActionExecuted("action_listen"),
]
for event in first:
    tracker.update(event)
asyncio.run(store.save(tracker))  # one turn stored, then the verification turn
second = [
    user("后四位是 5678"),
    SlotSet("phone_last4", "5678"),
    SlotSet("requested_slot", None),
    ActiveLoop(None),
    ActionExecuted("action_lookup_case_status"),
    SlotSet("phone_last4", None),
    ActionExecuted("action_listen"),
    user("附加证明书怎么办理", "faq"),
    ActionExecuted("action_listen"),
    user("查询进度", "ask_case_status"),
    ActiveLoop("case_status_form"),
    SlotSet("requested_slot", "phone_last4"),
    ActionExecuted("action_listen"),
    user("qw123456"),
    SlotSet("phone_last4", "QW123456"),
]
for event in second:
    tracker.update(event)
asyncio.run(store.save(tracker))
print("LIVE", tracker.events[-1].value)  # the running turn still has the secret
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    if not RASA_PY.exists():
        pytest.fail("the Rasa venv is missing: run `make install`")
    db = tmp_path_factory.mktemp("tracker") / "tracker.db"
    done = subprocess.run(
        [str(RASA_PY), "-c", SCRIPT, str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT data FROM events ORDER BY id").fetchall()
    return done, [json.loads(row[0]) for row in rows], db.read_bytes()


def test_neither_digits_nor_query_code_reach_the_tracker_store(stored):
    done, events, raw = stored
    assert "LIVE QW123456" in done.stdout
    text = raw.decode("utf-8", errors="replace")
    for secret in ("5678", "13800005678", "QW123456", "qw123456"):
        assert not shows(secret, text), secret
    users = [e["text"] for e in events if e["event"] == "user"]
    assert users[0] == "查询进度 VA-2026-000123 手机****"  # the reference stays: not a secret
    assert users[1] == users[4] == "［已隐去核验信息］"
    assert users[2] == "附加证明书怎么办理"  # ordinary turns are kept as typed
    slots = [e["value"] for e in events if e["event"] == "slot" and e["name"] == "phone_last4"]
    assert slots == [None, None, None]


def test_redacted_events_keep_their_kind_and_order(stored):
    _, events, _ = stored
    kinds = [e["event"] for e in events]
    assert kinds.count("user") == 5 and kinds[1] == "user" and len(events) == 21


def test_a_secret_counts_as_shown_only_as_a_token_of_its_own():
    assert shows("5678", '"text": "后四位是 5678"') and shows("5678", '"value": "5678"}')
    assert shows("QW123456", "验证码QW123456")  # Chinese characters beside it still count
    assert not shows("5678", '"timestamp": 1796199258.5678034') and not shows("5678", "#a15678f")
