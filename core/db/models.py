"""Typed SQLAlchemy 2 models of the app database. Every schema change is an Alembic revision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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
    # idempotency: SHA-256 of "<reference>:<event_id>" (core/cases/sync.py)
    event_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    case: Mapped[Case] = relationship(back_populates="events")


class VerificationAttempt(Base):
    """A status lookup that was checked (not refused by a budget): who (sender and client
    address as salted hashes), which reference, which secret kind, whether it matched. A recent
    success lets that sender subscribe to the case; failures are shown to staff as lockouts."""

    __tablename__ = "verification_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32))
    sender_hash: Mapped[str] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(8))  # phone | code
    success: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    __table_args__ = (
        Index("ix_verification_attempts_reference_created", "reference", "created_at"),
        Index("ix_verification_attempts_sender_created", "sender_hash", "created_at"),
    )


class ThrottleHit(Base):
    """One counted event in a sliding-window budget (core/db/throttle.py) when Redis is not
    configured: a failed lookup or login, a minted widget session. `token` groups the hits of one
    reservation so that a success can take them back."""

    __tablename__ = "throttle_hits"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    token: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[dt.datetime] = mapped_column(Timestamp)
    __table_args__ = (Index("ix_throttle_hits_key_at", "key", "at"),)


class ThrottleLock(Base):
    """An escalating lockout (a case reference whose budget ran out): `level` doubles the next
    lock; it falls back to 0 once the subject stays quiet for the maximum lock time."""

    __tablename__ = "throttle_locks"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class LoginFailure(Base):
    """Failed console logins per user name, whether or not the user exists (so an unknown name
    locks exactly like a real one). `subject` is a hash of the lower-cased name."""

    __tablename__ = "login_failures"
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class ConsoleSession(Base):
    """A staff console session, server-side: the cookie carries a random token whose SHA-256 is
    the id. Logout, a password change, deactivation and "sign out everywhere" revoke rows."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    last_active_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)  # absolute expiry
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


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
    author: Mapped[str] = mapped_column(String(16))  # citizen | staff | note | bot
    text: Mapped[str] = mapped_column(Text)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
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


class BotTurn(Base):
    """One citizen message and what kind of reply it got (for analytics; no text, sender hashed)."""

    __tablename__ = "bot_turns"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # web | tg | rest
    sender_hash: Mapped[str] = mapped_column(String(64))
    reply_type: Mapped[str] = mapped_column(String(32))  # kb_answer | fallback | handoff | …
    kb_id: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class Feedback(Base):
    """👍/👎 on one answer."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    kb_id: Mapped[str] = mapped_column(String(64), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class Outbox(Base):
    """A message to deliver to a citizen on their channel (staff reply, notification, tip).

    Each channel delivers its own pending rows and marks them sent, so nothing is lost when a
    process restarts; `dedupe_key` makes enqueueing idempotent.
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)  # tg | web | rest
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # staff_reply | notification | tip | system
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("handoff_tickets.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    __table_args__ = (Index("ix_outbox_pending", "channel", "sent_at"),)


class Subscription(Base):
    """A sender's subscription: to a case's state changes, or to the daily tip."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # case | daily_tip
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    __table_args__ = (UniqueConstraint("sender_id", "kind", "case_id"),)


class ChannelPreference(Base):
    """Per-sender preferences (answer language)."""

    __tablename__ = "channel_preferences"
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class ApiToken(Base):
    """A bearer token for the integration API, stored only as a hash."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # integration (writes) | staff (reads)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class IdempotencyRecord(Base):
    """The stored response of an idempotent API request (Idempotency-Key)."""

    __tablename__ = "idempotency_records"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class StaffUser(Base):
    """A console user: agent, editor or admin; password hashed (argon2)."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # agent | editor | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    lang: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")  # console UI


class AuditLog(Base):
    """Every staff action (who, what, on which object)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class KbDraft(Base):
    """A KB entry drafted by an editor from a resolved ticket, awaiting approval."""

    __tablename__ = "kb_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("handoff_tickets.id", ondelete="SET NULL")
    )
    kb_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|approved|rejected
    # new: a new entry from a ticket; review: an existing entry re-checked (approval rewrites it)
    kind: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    created_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class ServiceRating(Base):
    """The citizen's 1–5 rating of the human service of one closed ticket (one per ticket)."""

    __tablename__ = "service_ratings"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("handoff_tickets.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class SavedReply(Base):
    """A reply text staff insert into the reply box (kept by admins in the console)."""

    __tablename__ = "saved_replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class WechatMessage(Base):
    """A WeChat message or event the bot has taken: WeChat retries a message it got no answer
    to within 5 s, and this row (keyed by a hash of MsgId, or of sender + time + event) makes
    every retry, in any process, reuse the first answer instead of asking Rasa again. `reply`
    keeps the passive reply text for such a retry; rows are purged after a day."""

    __tablename__ = "wechat_messages"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # processing | passive | deferred
    reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class WechatUser(Base):
    """A WeChat user as the channel needs them: whether they follow the account, when they last
    wrote (customer-service messages are allowed for 48 hours after), and the numbered options
    of the last reply (a digit answers one of them)."""

    __tablename__ = "wechat_users"
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)  # wx:<openid>
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    options_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class WechatAccessToken(Base):
    """The account's access_token, shared by every process; `lease_until` lets one process at a
    time fetch a new one (WeChat invalidates the previous token on each fetch)."""

    __tablename__ = "wechat_access_tokens"
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    lease_until: Mapped[dt.datetime | None] = mapped_column(Timestamp)


__all__ = [
    "ApiToken",
    "AuditLog",
    "Base",
    "BotTurn",
    "Case",
    "CaseEvent",
    "ChannelPreference",
    "ConsoleSession",
    "Feedback",
    "HandoffMessage",
    "HandoffTicket",
    "IdempotencyRecord",
    "KbDraft",
    "LoginFailure",
    "Outbox",
    "SavedReply",
    "ServiceRating",
    "StaffUser",
    "Subscription",
    "ThrottleHit",
    "ThrottleLock",
    "UnansweredQuestion",
    "VerificationAttempt",
    "WechatAccessToken",
    "WechatMessage",
    "WechatUser",
]
