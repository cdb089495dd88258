"""What is deleted when: one function per store, counts returned (never contents)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, and_, delete, func, inspect, or_, select, text
from sqlalchemy.orm import Session

from core.cases.sync import purge_closed
from core.db.engine import affected_rows
from core.db.models import (
    AuditLog,
    BotTurn,
    ConsoleSession,
    Feedback,
    HandoffMessage,
    HandoffTicket,
    IdempotencyRecord,
    KbDraft,
    LoginFailure,
    Outbox,
    UnansweredQuestion,
    VerificationAttempt,
)
from core.db.throttle import purge_hits
from core.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periods:
    """Days each kind of record is kept (settings *_RETENTION_DAYS)."""

    tracker: int = 30
    tickets: int = 180
    outbox: int = 30
    attempts: int = 30
    idempotency: int = 7
    unanswered: int = 90
    feedback: int = 365
    turns: int = 365
    audit: int = 730
    cases: int = 180

    @classmethod
    def from_settings(cls, settings: Settings) -> Periods:
        """The periods configured for this process."""
        return cls(
            tracker=settings.tracker_retention_days,
            tickets=settings.ticket_retention_days,
            outbox=settings.outbox_retention_days,
            attempts=settings.attempt_retention_days,
            idempotency=settings.idempotency_retention_days,
            unanswered=settings.unanswered_retention_days,
            feedback=settings.feedback_retention_days,
            turns=settings.turn_retention_days,
            audit=settings.audit_retention_days,
            cases=settings.case_retention_days,
        )


def _before(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def purge_app(session: Session, now: dt.datetime, periods: Periods) -> dict[str, int]:
    """Delete expired rows of the app database; {table: rows deleted}."""
    counts: dict[str, int] = {}
    old_tickets = select(HandoffTicket.id).where(
        HandoffTicket.state == "closed",
        HandoffTicket.closed_at.is_not(None),
        HandoffTicket.closed_at < _before(now, periods.tickets),
    )
    counts["handoff_messages"] = affected_rows(
        session, delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(old_tickets))
    )
    # Drafts made from those tickets quote citizens; the decided ones go with the tickets.
    counts["kb_drafts"] = affected_rows(
        session,
        delete(KbDraft).where(
            KbDraft.status != "draft", KbDraft.created_at < _before(now, periods.tickets)
        ),
    )
    counts["handoff_tickets"] = affected_rows(
        session, delete(HandoffTicket).where(HandoffTicket.id.in_(old_tickets))
    )
    plain = {
        "outbox": (Outbox, Outbox.created_at, periods.outbox),
        "verification_attempts": (
            VerificationAttempt,
            VerificationAttempt.created_at,
            periods.attempts,
        ),
        "idempotency_records": (
            IdempotencyRecord,
            IdempotencyRecord.created_at,
            periods.idempotency,
        ),
        "unanswered_questions": (
            UnansweredQuestion,
            UnansweredQuestion.created_at,
            periods.unanswered,
        ),
        "feedback": (Feedback, Feedback.created_at, periods.feedback),
        "bot_turns": (BotTurn, BotTurn.created_at, periods.turns),
        "audit_log": (AuditLog, AuditLog.created_at, periods.audit),
        "login_failures": (LoginFailure, LoginFailure.updated_at, periods.attempts),
    }
    for name, (model, column, days) in plain.items():
        counts[name] = affected_rows(session, delete(model).where(column < _before(now, days)))
    counts["throttle"] = purge_hits(session, _before(now, periods.attempts))
    counts["console_sessions"] = affected_rows(
        session,
        delete(ConsoleSession).where(
            or_(
                ConsoleSession.expires_at < now,
                and_(
                    ConsoleSession.revoked_at.is_not(None),
                    ConsoleSession.revoked_at < now - dt.timedelta(days=1),
                ),
            )
        ),
    )
    closed = purge_closed(session, now, periods.cases)
    counts["cases"], counts["case_events"] = closed["cases"], closed["events"]
    session.flush()
    return counts


def purge_tracker(engine: Engine, now: dt.datetime, days: int) -> int:
    """Delete Rasa tracker events (table `events`, Unix `timestamp`) older than `days`."""
    if "events" not in inspect(engine).get_table_names():
        return 0  # Rasa has not written this store yet
    cutoff = _before(now, days).timestamp()
    with engine.begin() as connection:
        result = connection.execute(
            text("DELETE FROM events WHERE timestamp < :cutoff"), {"cutoff": cutoff}
        )
        return int(result.rowcount or 0)


def tracker_event_count(engine: Engine) -> int:
    """Events in the tracker store (for reports and tests)."""
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(text("events"))).scalar() or 0
        )


def log_counts(counts: dict[str, int]) -> None:
    """One log line per store with what was deleted: counts, never contents."""
    for name, count in sorted(counts.items()):
        logger.info(
            "retention_purged", extra={"event": "retention_purged", "kind": name, "count": count}
        )
