"""Typed SQLAlchemy 2 models of the app database. Every schema change is an Alembic revision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


Timestamp = DateTime(timezone=True)


class Case(Base):
    """A citizen's case or application in one of the office's services.

    Personal data is kept minimal: the applicant's name only masked for display, the phone
    only as a salted hash of reference + its last 4 digits, the receipt's query code hashed.
    """

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    applicant_masked: Mapped[str] = mapped_column(String(64))
    phone_hash: Mapped[str] = mapped_column(String(64))
    query_code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseEvent.occurred_at"
    )


class CaseEvent(Base):
    """One state change of a case, as pushed by the office's case system."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # idempotency
    state: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    case: Mapped[Case] = relationship(back_populates="events")


class VerificationAttempt(Base):
    """A status lookup attempt; failures drive the lockout. Sender stored as a salted hash."""

    __tablename__ = "verification_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32))
    sender_hash: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    __table_args__ = (
        Index("ix_verification_attempts_reference_created", "reference", "created_at"),
        Index("ix_verification_attempts_sender_created", "sender_hash", "created_at"),
    )


class HandoffTicket(Base):
    """A conversation handed to staff: queued → claimed → closed."""

    __tablename__ = "handoff_tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)  # channel-prefixed
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    topic: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    closed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    messages: Mapped[list[HandoffMessage]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="HandoffMessage.id"
    )


class HandoffMessage(Base):
    """A message inside a ticket: from the citizen, from staff, or an internal note."""

    __tablename__ = "handoff_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("handoff_tickets.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    ticket: Mapped[HandoffTicket] = relationship(back_populates="messages")


class UnansweredQuestion(Base):
    """A question the bot could not answer (fallback / out of scope), with digits masked."""

    __tablename__ = "unanswered_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None]
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class Feedback(Base):
    """👍/👎 on one answer."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    kb_id: Mapped[str] = mapped_column(String(64), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


__all__ = [
    "Base",
    "Case",
    "CaseEvent",
    "Feedback",
    "HandoffMessage",
    "HandoffTicket",
    "UnansweredQuestion",
    "VerificationAttempt",
]
