"""Outbox rows on SQLite and PostgreSQL."""

import datetime as dt

from core.notify import outbox


def test_enqueue_is_idempotent_by_dedupe_key(db_session):
    first = outbox.enqueue(
        db_session,
        channel="tg",
        sender_id="tg:1",
        kind="notification",
        text="状态更新",
        dedupe_key="case:1:event:7",
    )
    again = outbox.enqueue(
        db_session,
        channel="tg",
        sender_id="tg:1",
        kind="notification",
        text="状态更新",
        dedupe_key="case:1:event:7",
    )
    assert first.id == again.id
    assert [r.id for r in outbox.pending(db_session, "tg")] == [first.id]


def test_sent_rows_leave_the_queue_and_failures_are_counted(db_session):
    a = outbox.enqueue(
        db_session, channel="web", sender_id="web:a", kind="staff_reply", text="您好"
    )
    b = outbox.enqueue(
        db_session, channel="web", sender_id="web:b", kind="staff_reply", text="再见"
    )
    outbox.mark_failed(db_session, a, "timeout")
    outbox.mark_sent(db_session, b, dt.datetime.now(dt.UTC))
    assert [r.id for r in outbox.pending(db_session, "web")] == [a.id]
    assert outbox.pending(db_session, "web", sender_id="web:b") == []
    assert a.attempts == 1 and a.last_error == "timeout"
