"""A KB-only change is answered after the action server notices it: no retraining, no new model.

Its own stack, because it edits a copy of kb/ (KB_DIR) that the shared e2e stack must not see.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import httpx
import pytest

from scripts.stack import ROOT, current_model, free_port, local_stack

QUESTION = "琉璃瓦文书的认证窗口在哪个楼层"
NEW_ID = "zz_glazed_tile_counter"


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory):
    model = current_model()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` first")
    work = tmp_path_factory.mktemp("kb-live")
    kb_dir = work / "kb"
    shutil.copytree(ROOT / "kb", kb_dir)
    ports = {"rasa": free_port(), "actions": free_port(), "api": free_port()}
    stack, _ = local_stack(
        work, model=model, ports=ports, extra_env={"KB_DIR": str(kb_dir), "KB_RELOAD_S": "0.5"}
    )
    try:
        stack.up(timeout_s=400)
        yield kb_dir, ports
    finally:
        stack.down()


def ask(ports: dict[str, int], sender: str, text: str) -> list[dict]:
    response = httpx.post(
        f"http://127.0.0.1:{ports['rasa']}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    response.raise_for_status()
    return [m["custom"] for m in response.json() if "custom" in m]


def add_entry(kb_dir: Path) -> None:
    source = (kb_dir / "office" / "office_contact.yml").read_text(encoding="utf-8")
    old_id = source.split("\n", 1)[0].split(": ", 1)[1]
    text = source.replace(f"id: {old_id}", f"id: {NEW_ID}", 1)
    text = text.replace("questions:\n", f"questions:\n  - {QUESTION}\n", 1)
    (kb_dir / "office" / f"{NEW_ID}.yml").write_text(text, encoding="utf-8")


def test_new_kb_entry_is_answered_without_a_new_model(live_stack):
    kb_dir, ports = live_stack
    models_before = sorted(p.name for p in (ROOT / "models").glob("*.tar.gz"))
    before = ask(ports, f"live-{uuid.uuid4().hex[:8]}", QUESTION)
    assert not any(p.get("kb_id") == NEW_ID for p in before)
    add_entry(kb_dir)
    deadline = time.monotonic() + 60
    got: list[dict] = []
    while time.monotonic() < deadline:
        time.sleep(1.0)
        got = ask(ports, f"live-{uuid.uuid4().hex[:8]}", QUESTION)
        if any(p.get("kb_id") == NEW_ID for p in got):
            break
    assert any(p.get("type") == "kb_answer" and p.get("kb_id") == NEW_ID for p in got), got
    assert sorted(p.name for p in (ROOT / "models").glob("*.tar.gz")) == models_before
