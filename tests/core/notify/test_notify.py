"""Core pieces behind the Telegram channel, on SQLite and PostgreSQL: outbox claims, daily
tips, subscriptions, language preferences, feedback."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.db.models import Feedback, Outbox, Subscription
from core.kb.feedback import record_feedback
from core.notify import delivery, outbox, tips
from core.notify.preferences import get_lang, set_lang

NOW = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


def test_a_row_can_be_claimed_only_once_per_attempt(db_session):
    outbox.enqueue(db_session, channel="tg", sender_id="tg:1", kind="system", text="您好")
    [row] = delivery.pending_deliveries(db_session, "tg", max_attempts=3)
    assert delivery.claim(db_session, row) is True
    assert delivery.claim(db_session, row) is False  # a second deliverer with the same view
    delivery.record_sent(db_session, row.id, NOW)
    assert delivery.pending_deliveries(db_session, "tg", max_attempts=3) == []


def test_exhausted_rows_leave_the_delivery_queue(db_session):
    outbox.enqueue(db_session, channel="tg", sender_id="tg:2", kind="system", text="您好")
    [row] = delivery.pending_deliveries(db_session, "tg", max_attempts=3)
    delivery.claim(db_session, row)
    delivery.record_failure(db_session, row.id, "TelegramForbiddenError", give_up_at=3)
    assert delivery.pending_deliveries(db_session, "tg", max_attempts=3) == []
    stored = db_session.scalar(select(Outbox))
    db_session.refresh(stored)
    assert stored.sent_at is None and stored.last_error == "TelegramForbiddenError"


def test_daily_tips_are_queued_once_per_subscriber_and_day_in_their_language(db_session, kb):
    assert tips.subscribe(db_session, "tg:10") is True
    assert tips.subscribe(db_session, "tg:10") is False
    tips.subscribe(db_session, "tg:11")
    set_lang(db_session, "tg:11", "en", NOW)
    day = dt.date(2026, 11, 23)
    assert tips.enqueue_daily_tips(db_session, kb, day) == 2
    assert tips.enqueue_daily_tips(db_session, kb, day) == 0
    rows = db_session.scalars(select(Outbox).order_by(Outbox.sender_id)).all()
    assert [(r.sender_id, r.kind, r.dedupe_key) for r in rows] == [
        ("tg:10", "tip", "tip:tg:10:2026-11-23"),
        ("tg:11", "tip", "tip:tg:11:2026-11-23"),
    ]
    kb_id = tips.tip_entry_id(kb, day)
    assert rows[0].payload["kb_id"] == kb_id and rows[0].payload["sources"]
    expected_lang = "en" if kb.entries[kb_id].answer_en else "zh"
    assert rows[1].payload["lang"] == expected_lang
    assert tips.unsubscribe(db_session, "tg:10") is True
    assert tips.enqueue_daily_tips(db_session, kb, day + dt.timedelta(days=1)) == 1
    assert db_session.scalars(select(Subscription.sender_id)).all() == ["tg:11"]


def test_language_defaults_to_chinese_and_rejects_unknown_codes(db_session):
    assert get_lang(db_session, "tg:20") == "zh"
    set_lang(db_session, "tg:20", "en", NOW)
    assert get_lang(db_session, "tg:20") == "en"
    set_lang(db_session, "tg:20", "zh", NOW)
    assert get_lang(db_session, "tg:20") == "zh"
    with pytest.raises(ValueError):
        set_lang(db_session, "tg:20", "fr", NOW)


def test_feedback_only_for_known_entries(db_session, kb):
    assert record_feedback(db_session, kb, "apostille_how_to_apply", True) is True
    assert record_feedback(db_session, kb, "no_such_entry", False) is False
    rows = db_session.scalars(select(Feedback)).all()
    assert [(r.kb_id, r.helpful) for r in rows] == [("apostille_how_to_apply", True)]
