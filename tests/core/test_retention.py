"""Retention (PIPL): what is past its period goes, what is not stays; Rasa's tracker store too;
the api runs it by itself; the logs name tables and counts, never contents."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

from sqlalchemy import create_engine, func, select, text

from core.db.models import (
    AuditLog,
    BotTurn,
    ConsoleSession,
    Feedback,
    HandoffMessage,
    HandoffTicket,
    IdempotencyRecord,
    Outbox,
    StaffUser,
    ThrottleHit,
    UnansweredQuestion,
    VerificationAttempt,
)
from core.retention.job import run_purge, start_retention_job
from core.retention.purge import Periods, purge_app, purge_tracker

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(days=800)
RECENT = NOW - dt.timedelta(days=1)


def _rows(session, at: dt.datetime, tag: str) -> None:
    ticket = HandoffTicket(
        sender_id=f"web:{tag}",
        channel="web",
        reason="citizen_request",
        state="closed",
        created_at=at,
        closed_at=at,
    )
    session.add(ticket)
    session.flush()
    session.add_all(
        [
            HandoffMessage(
                ticket_id=ticket.id, author="citizen", text=f"我的问题 {tag}", created_at=at
            ),
            Outbox(channel="web", sender_id=f"web:{tag}", kind="system", text="…", created_at=at),
            VerificationAttempt(
                reference="VA-2026-000123", sender_hash=tag, success=False, created_at=at
            ),
            IdempotencyRecord(
                key=f"k-{tag}", request_hash="h", status_code=201, response={}, created_at=at
            ),
            UnansweredQuestion(kind="fallback", text=f"问 {tag}", created_at=at),
            Feedback(kb_id="apostille_what_is", helpful=True, created_at=at),
            BotTurn(channel="web", sender_hash=tag, reply_type="kb_answer", created_at=at),
            AuditLog(actor="agent1", action="reply", target=tag, created_at=at),
            ThrottleHit(key=f"lookup:sender:{tag}", token=tag, at=at),
        ]
    )
    session.flush()


def test_purge_deletes_only_what_is_past_its_period(db_session):
    _rows(db_session, OLD, "old")
    _rows(db_session, RECENT, "new")
    counts = purge_app(db_session, NOW, Periods())
    for model in (
        HandoffTicket,
        HandoffMessage,
        Outbox,
        VerificationAttempt,
        IdempotencyRecord,
        UnansweredQuestion,
        Feedback,
        BotTurn,
        AuditLog,
    ):
        left = db_session.scalar(select(func.count()).select_from(model))
        assert left == 1, model.__tablename__
    mine = ThrottleHit.token.in_(["old", "new"])  # other tests may commit hits to the schema
    assert db_session.scalar(select(func.count()).select_from(ThrottleHit).where(mine)) == 1
    assert counts["handoff_tickets"] == counts["handoff_messages"] == counts["outbox"] == 1
    assert counts["idempotency_records"] == counts["unanswered_questions"] == 1
    assert counts["verification_attempts"] == counts["throttle"] == counts["audit_log"] == 1


def test_periods_are_configurable(db_session):
    _rows(db_session, NOW - dt.timedelta(days=10), "ten-days")
    assert purge_app(db_session, NOW, Periods())["idempotency_records"] == 1  # 7 days
    kept = purge_app(db_session, NOW, Periods(unanswered=30))
    assert kept["unanswered_questions"] == 0
    assert purge_app(db_session, NOW, Periods(unanswered=5))["unanswered_questions"] == 1


def test_ended_console_sessions_are_purged(db_session):
    user = StaffUser(username="agent1", password_hash="x", role="agent")
    db_session.add(user)
    db_session.flush()
    for i, expires in enumerate((NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1))):
        db_session.add(
            ConsoleSession(id=f"{i}" * 64, user_id=user.id, csrf="c", expires_at=expires)
        )
    db_session.flush()
    assert purge_app(db_session, NOW, Periods())["console_sessions"] == 1


def test_tracker_events_older_than_the_period_are_deleted(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, data TEXT)"
            )
        )
        for sender, at in (("web:old", OLD), ("web:new", RECENT)):
            conn.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')"
                ),
                {"s": sender, "t": at.timestamp()},
            )
    assert purge_tracker(engine, NOW, 30) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sender_id FROM events")).scalars().all() == ["web:new"]


def test_a_tracker_store_rasa_never_wrote_is_skipped(settings, tmp_path):
    missing = settings.model_copy(
        update={"tracker_database_url": f"sqlite:///{tmp_path / 'none.db'}"}
    )
    assert run_purge(missing, NOW)["tracker_events"] == 0
    assert not (tmp_path / "none.db").exists()


def test_the_api_job_purges_on_its_own_and_logs_counts_only(settings, sessions, caplog, tmp_path):
    with sessions() as session:
        _rows(session, dt.datetime.now(dt.UTC) - dt.timedelta(days=800), "secret-tag")
        session.commit()
    quick = settings.model_copy(
        update={
            "retention_interval_s": 0.05,
            "tracker_database_url": f"sqlite:///{tmp_path / 't.db'}",
        }
    )

    async def run() -> None:
        task = start_retention_job(quick)
        assert task is not None
        for _ in range(100):
            await asyncio.sleep(0.05)
            with sessions() as session:
                if not session.scalar(select(func.count()).select_from(UnansweredQuestion)):
                    break
        task.cancel()

    with caplog.at_level(logging.INFO, logger="core.retention.purge"):
        asyncio.run(run())
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(HandoffMessage)) == 0
    lines = [r for r in caplog.records if getattr(r, "event", None) == "retention_purged"]
    assert lines and all(set(vars(r)) >= {"kind", "count"} for r in lines)
    logged = json.dumps(
        [r.getMessage() for r in lines] + [str(vars(r)) for r in lines], ensure_ascii=False
    )
    assert "secret-tag" not in logged and "我的问题" not in logged


def test_the_job_is_off_with_a_zero_interval(settings):
    assert start_retention_job(settings.model_copy(update={"retention_interval_s": 0})) is None
