"""The WeChat channel's rows in the app database: message dedupe, users, held outbox rows.

Every function takes the caller's session (the caller owns the transaction) and never commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.cases.sync import unsubscribe_all as unsubscribe_cases
from core.db.engine import affected_rows
from core.db.models import HandoffTicket, Outbox, WechatMessage, WechatUser
from core.db.utc import aware
from core.handoff.store import add_message
from core.notify import tips

CHANNEL = "wx"
WINDOW = dt.timedelta(hours=48)  # customer-service messages are allowed this long after
WINDOW_MARGIN = dt.timedelta(minutes=10)  # … minus a margin for clocks and queues
OPTIONS_TTL = dt.timedelta(hours=24)  # a digit answers the last list for this long
MESSAGE_TTL = dt.timedelta(days=1)  # WeChat retries within seconds; keep a day, then purge
WINDOW_CLOSED = "wx_window_closed"  # last_error of rows waiting for the citizen to write again
UNFOLLOWED = "wx_unfollowed"


# --- message dedupe ---------------------------------------------------------------------------


def claim_message(session: Session, key: str, now: dt.datetime) -> bool:
    """Take a message for processing; False when some process already took it (a retry)."""
    try:
        with session.begin_nested():
            session.add(WechatMessage(key=key, state="processing", created_at=now))
    except IntegrityError:
        return False
    return True


def find_message(session: Session, key: str) -> WechatMessage | None:
    """The stored state of a message."""
    return session.get(WechatMessage, key)


def settle_message(session: Session, key: str, state: str, reply: str | None = None) -> None:
    """`passive` (answered in the response; `reply` kept for a retry) or `deferred`."""
    session.execute(
        update(WechatMessage).where(WechatMessage.key == key).values(state=state, reply=reply)
    )


def purge_messages(session: Session, now: dt.datetime) -> int:
    """Forget messages older than MESSAGE_TTL; how many."""
    return affected_rows(
        session, delete(WechatMessage).where(WechatMessage.created_at < now - MESSAGE_TTL)
    )


# --- users --------------------------------------------------------------------------------------


def _user(session: Session, sender_id: str, now: dt.datetime) -> WechatUser:
    user = session.get(WechatUser, sender_id)
    if user is not None:
        return user
    try:
        with session.begin_nested():
            user = WechatUser(sender_id=sender_id, following=True, updated_at=now)
            session.add(user)
    except IntegrityError:  # created by another process meanwhile
        found = session.get(WechatUser, sender_id)
        assert found is not None
        return found
    return user


def record_inbound(session: Session, sender_id: str, now: dt.datetime) -> int:
    """The citizen wrote (or clicked, or followed): the 48-hour window opens again, and rows
    held because it had closed are released for delivery; how many were released."""
    user = _user(session, sender_id, now)
    user.last_inbound_at = now
    user.following = True
    user.updated_at = now
    requeued = affected_rows(
        session,
        update(Outbox)
        .where(
            Outbox.channel == CHANNEL,
            Outbox.sender_id == sender_id,
            Outbox.sent_at.is_(None),
            Outbox.kind != "tip",  # yesterday's tip is not worth sending late
            Outbox.last_error.like(f"{WINDOW_CLOSED}%"),
        )
        .values(attempts=0, last_error=None),
    )
    session.flush()
    return requeued


def record_follow(session: Session, sender_id: str, now: dt.datetime) -> None:
    """The citizen followed the account (again)."""
    user = _user(session, sender_id, now)
    user.following = True
    user.updated_at = now
    session.flush()


def window_open(session: Session, sender_id: str, now: dt.datetime) -> bool:
    """True when a customer-service message may reach the citizen now."""
    user = session.get(WechatUser, sender_id)
    if user is None or not user.following or user.last_inbound_at is None:
        return False
    return aware(user.last_inbound_at) + WINDOW - WINDOW_MARGIN > now


def is_following(session: Session, sender_id: str) -> bool:
    """False once the citizen unfollowed the account (unknown users count as following)."""
    user = session.get(WechatUser, sender_id)
    return user is None or user.following


def save_options(
    session: Session, sender_id: str, options: list[dict[str, str]] | None, now: dt.datetime
) -> None:
    """Remember the numbered options of the last reply (None clears them)."""
    user = _user(session, sender_id, now)
    user.options = options or None
    user.options_at = now if options else None
    session.flush()


def chosen_option(
    session: Session, sender_id: str, number: int, now: dt.datetime
) -> dict[str, Any] | None:
    """The option a digit names, if the last list is recent and has it."""
    user = session.get(WechatUser, sender_id)
    if user is None or not user.options or user.options_at is None:
        return None
    if aware(user.options_at) + OPTIONS_TTL < now or not 1 <= number <= len(user.options):
        return None
    option = user.options[number - 1]
    return option if isinstance(option, dict) else None


def unfollow(session: Session, sender_id: str, now: dt.datetime, max_attempts: int) -> None:
    """The citizen unfollowed: no more tips or case notifications, pending rows stop."""
    user = _user(session, sender_id, now)
    user.following = False
    user.options = None
    user.options_at = None
    user.updated_at = now
    tips.unsubscribe(session, sender_id)
    unsubscribe_cases(session, sender_id)
    session.execute(
        update(Outbox)
        .where(Outbox.channel == CHANNEL, Outbox.sender_id == sender_id, Outbox.sent_at.is_(None))
        .values(attempts=max_attempts, last_error=UNFOLLOWED)
    )
    session.flush()


def note_on_ticket(session: Session, ticket_id: int, text: str) -> None:
    """An internal note on the ticket (shown to staff in the console, never to the citizen)."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is not None:
        add_message(session, ticket, "note", text)


def undelivered(session: Session, sender_id: str | None = None) -> list[Outbox]:
    """WeChat rows that are not delivered and not being retried (for staff)."""
    query = select(Outbox).where(
        Outbox.channel == CHANNEL, Outbox.sent_at.is_(None), Outbox.last_error.is_not(None)
    )
    if sender_id is not None:
        query = query.where(Outbox.sender_id == sender_id)
    return list(session.scalars(query.order_by(Outbox.id)))
