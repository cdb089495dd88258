"""The KB is live: an edit is picked up without retraining or restart; a bad edit is refused."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from core import services
from core.kb.loader import load_kb
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(tmp_path, monkeypatch, sqlite_url):
    kb_dir = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb_dir)
    settings = Settings(
        _env_file=None, app_env="test", database_url=sqlite_url, kb_dir=kb_dir, kb_reload_s=0.01
    )
    monkeypatch.setattr(services, "get_settings", lambda: settings)
    services.get_kb.cache_clear()
    services.get_index.cache_clear()
    yield kb_dir
    services.get_kb.cache_clear()
    services.get_index.cache_clear()


def _copy_entry(kb_dir: Path, source: str, new_id: str, question: str) -> None:
    text = (kb_dir / source).read_text(encoding="utf-8")
    old_id = text.split("\n", 1)[0].split(": ", 1)[1]
    text = text.replace(f"id: {old_id}", f"id: {new_id}", 1)
    text = text.replace("questions:\n", f"questions:\n  - {question}\n", 1)
    (kb_dir / source).with_name(f"{new_id}.yml").write_text(text, encoding="utf-8")


def test_new_entry_is_live_after_the_poll_interval(live):
    before = services.get_kb()
    index_before = services.get_index()
    assert "zz_live_entry" not in before.entries
    _copy_entry(live, "apostille/apostille_what_is.yml", "zz_live_entry", "琉璃瓦认证什么时候开放")
    time.sleep(0.05)
    after = services.get_kb()
    assert "zz_live_entry" in after.entries and after is not before
    index_after = services.get_index()
    assert index_after is not index_before
    assert index_after.exact("琉璃瓦认证什么时候开放") == "zz_live_entry"


def test_an_invalid_edit_is_refused_and_the_old_kb_keeps_answering(live, caplog):
    before = services.get_kb()
    (live / "apostille" / "broken.yml").write_text("id: broken\ntopic: apostille\n", encoding="utf-8")
    time.sleep(0.05)
    assert services.get_kb() is before
    assert any(r.msg == "kb_reload_refused" for r in caplog.records)


def test_unchanged_kb_is_not_reloaded(live):
    before = services.get_kb()
    time.sleep(0.05)
    assert services.get_kb() is before


def test_fingerprint_changes_with_content(tmp_path):
    shutil.copytree(ROOT / "kb", tmp_path / "kb")
    first = services.kb_fingerprint(tmp_path / "kb")
    (tmp_path / "kb" / "office.yml").write_text(
        (tmp_path / "kb" / "office.yml").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    assert services.kb_fingerprint(tmp_path / "kb") != first
    assert load_kb(tmp_path / "kb").entries  # still valid
