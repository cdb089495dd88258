"""Handing conversations to staff: tickets, routing citizen messages, parked messages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.db.models import HandoffTicket
from core.db.repos import handoff as repo


@dataclass(frozen=True)
class TicketInfo:
    ticket: int
    state: str
    position: int

    def payload(self) -> dict[str, object]:
        """The `handoff` reply payload."""
        return {
            "type": "handoff",
            "ticket": self.ticket,
            "state": self.state,
            "position": self.position,
        }


def channel_of(sender_id: str) -> str:
    """Channel from the sender id prefix (`tg:…`, `web:…`); other senders are `rest`."""
    prefix, sep, _ = sender_id.partition(":")
    return prefix if sep and prefix in {"tg", "web"} else "rest"


def request_handoff(
    session: Session,
    sender_id: str,
    reason: str,
    *,
    priority: str = "normal",
    topic: str | None = None,
) -> TicketInfo:
    """Open a ticket for the sender, or return the one already open (raising its priority)."""
    ticket = repo.find_open_ticket(session, sender_id)
    if ticket is None:
        ticket = repo.open_ticket(
            session, sender_id, channel_of(sender_id), reason, priority=priority, topic=topic
        )
    elif priority == "urgent" and ticket.priority != "urgent":
        ticket.priority = "urgent"
        ticket.reason = reason
        session.flush()
    return _info(session, ticket)


def _info(session: Session, ticket: HandoffTicket) -> TicketInfo:
    position = repo.queue_position(session, ticket) if ticket.state == "queued" else 0
    return TicketInfo(ticket.id, ticket.state, position)


def route_to_open_ticket(session: Session, sender_id: str, text: str) -> TicketInfo | None:
    """Store the citizen's message in their open ticket; None when no ticket is open."""
    ticket = repo.find_open_ticket(session, sender_id)
    if ticket is None:
        return None
    repo.add_message(session, ticket, "citizen", text)
    return _info(session, ticket)


def park_message(session: Session, sender_id: str, text: str) -> TicketInfo:
    """Keep a message the bot could not process (Rasa down) for staff, in a ticket."""
    info = request_handoff(session, sender_id, "bot_unavailable")
    ticket = session.get(HandoffTicket, info.ticket)
    assert ticket is not None
    repo.add_message(session, ticket, "citizen", text)
    return info
