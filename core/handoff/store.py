"""Handoff ticket queries: tickets, their messages, the queue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from core.db.models import HandoffMessage, HandoffTicket

OPEN_STATES = ("queued", "claimed")


def find_open_ticket(session: Session, sender_id: str) -> HandoffTicket | None:
    """The sender's open ticket, if any (newest first)."""
    return session.scalar(
        select(HandoffTicket)
        .where(HandoffTicket.sender_id == sender_id, HandoffTicket.state.in_(OPEN_STATES))
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )


def open_ticket(
    session: Session,
    sender_id: str,
    channel: str,
    reason: str,
    *,
    priority: str = "normal",
    topic: str | None = None,
) -> HandoffTicket:
    """Create a queued ticket."""
    ticket = HandoffTicket(
        sender_id=sender_id,
        channel=channel,
        reason=reason,
        priority=priority,
        topic=topic,
        state="queued",
    )
    session.add(ticket)
    session.flush()
    return ticket


def add_message(session: Session, ticket: HandoffTicket, author: str, text: str) -> HandoffMessage:
    """Append a message to a ticket."""
    message = HandoffMessage(ticket=ticket, author=author, text=text)
    session.add(message)
    session.flush()
    return message


def queue_position(session: Session, ticket: HandoffTicket) -> int:
    """1-based position among queued tickets (urgent ones first)."""
    urgent_first = HandoffTicket.priority == "urgent"
    ahead = select(func.count()).select_from(HandoffTicket).where(HandoffTicket.state == "queued")
    if ticket.priority == "urgent":
        ahead = ahead.where(urgent_first, HandoffTicket.id < ticket.id)
    else:
        ahead = ahead.where((HandoffTicket.priority == "urgent") | (HandoffTicket.id < ticket.id))
    return (session.scalar(ahead) or 0) + 1


def close_ticket(session: Session, ticket: HandoffTicket, now: dt.datetime) -> None:
    """Close the ticket (the bot resumes for this sender)."""
    ticket.state = "closed"
    ticket.closed_at = now
    session.flush()


def list_open(session: Session) -> list[HandoffTicket]:
    """Open tickets with their messages: emergencies first, then oldest first."""
    urgent_first = case((HandoffTicket.priority == "urgent", 0), else_=1)
    return list(
        session.scalars(
            select(HandoffTicket)
            .where(HandoffTicket.state.in_(OPEN_STATES))
            .options(selectinload(HandoffTicket.messages))
            .order_by(urgent_first, HandoffTicket.id)
        )
    )


def sender_messages(session: Session, sender_id: str) -> list[HandoffMessage]:
    """Every ticket message of one sender, oldest first."""
    return list(
        session.scalars(
            select(HandoffMessage)
            .join(HandoffTicket)
            .where(HandoffTicket.sender_id == sender_id)
            .order_by(HandoffMessage.id)
        )
    )


def load_ticket(session: Session, ticket_id: int) -> HandoffTicket | None:
    """A ticket with its messages loaded (usable after the session closes)."""
    return session.scalar(
        select(HandoffTicket)
        .where(HandoffTicket.id == ticket_id)
        .options(selectinload(HandoffTicket.messages))
    )


def recently_closed(session: Session, limit: int = 20) -> list[HandoffTicket]:
    """The newest closed tickets (for review and KB drafts)."""
    return list(
        session.scalars(
            select(HandoffTicket)
            .where(HandoffTicket.state == "closed")
            .order_by(HandoffTicket.closed_at.desc(), HandoffTicket.id.desc())
            .limit(limit)
        )
    )
