"""The embedded default: Rasa's tracker store is the SQLite file named in the endpoints, in WAL
mode (rasa_addons.tracker_store) — not a silent in-memory fallback."""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = pytest.mark.e2e


def test_tracker_is_stored_in_sqlite_with_write_ahead_logging(stack, convo):
    assert convo.payloads("你好")
    tracker_db = stack.log_dir.parent / "tracker.db"
    with sqlite3.connect(tracker_db) as db:
        rows = db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (convo.sender,))
        assert rows.fetchone()[0] >= 3
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
