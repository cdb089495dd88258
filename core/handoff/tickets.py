"""Handing conversations to staff: tickets, routing citizen messages, parked messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.db.models import HandoffMessage, HandoffTicket
from core.handoff import store
from core.notify import outbox
from core.texts import t


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


def request_handoff(
    session: Session,
    sender_id: str,
    reason: str,
    *,
    priority: str = "normal",
    topic: str | None = None,
) -> TicketInfo:
    """Open a ticket for the sender, or return the one already open (raising its priority)."""
    ticket = store.find_open_ticket(session, sender_id)
    if ticket is None:
        ticket = store.open_ticket(
            session, sender_id, outbox.channel_of(sender_id), reason, priority=priority, topic=topic
        )
    elif priority == "urgent" and ticket.priority != "urgent":
        ticket.priority = "urgent"
        ticket.reason = reason
        session.flush()
    return _info(session, ticket)


def _info(session: Session, ticket: HandoffTicket) -> TicketInfo:
    position = store.queue_position(session, ticket) if ticket.state == "queued" else 0
    return TicketInfo(ticket.id, ticket.state, position)


def route_to_open_ticket(session: Session, sender_id: str, text: str) -> TicketInfo | None:
    """Store the citizen's message in their open ticket; None when no ticket is open."""
    ticket = store.find_open_ticket(session, sender_id)
    if ticket is None:
        return None
    store.add_message(session, ticket, "citizen", text)
    return _info(session, ticket)


def park_message(session: Session, sender_id: str, text: str) -> TicketInfo:
    """Keep a message the bot could not process (Rasa down) for staff, in a ticket."""
    info = request_handoff(session, sender_id, "bot_unavailable")
    ticket = session.get(HandoffTicket, info.ticket)
    assert ticket is not None
    store.add_message(session, ticket, "citizen", text)
    return info


# --- Staff side: claim, reply, note, close (the console calls these) -------------------------

MAX_STAFF_TEXT = 2000


class TicketError(Exception):
    """A staff action that does not fit the ticket's state; the message is for staff."""


def get_open_ticket(session: Session, ticket_id: int) -> HandoffTicket:
    """The ticket if it is still open; TicketError otherwise."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        raise TicketError("工单不存在。")
    if ticket.state not in store.OPEN_STATES:
        raise TicketError("工单已关闭。")
    return ticket


def claim_ticket(
    session: Session, ticket_id: int, staff_username: str, now: dt.datetime
) -> HandoffTicket:
    """Assign a queued ticket to a staff member and tell the citizen someone is there."""
    ticket = get_open_ticket(session, ticket_id)
    if ticket.state == "claimed":
        if ticket.claimed_by == staff_username:
            return ticket
        raise TicketError(f"工单已由 {ticket.claimed_by} 接手。")
    ticket.state = "claimed"
    ticket.claimed_by = staff_username
    ticket.claimed_at = now
    _notify(session, ticket, "system", t("reply.staff_claimed"), "claimed")
    return ticket


def reply_to_ticket(
    session: Session, ticket_id: int, staff_id: int, staff_username: str, text: str
) -> HandoffMessage:
    """A staff reply: kept in the ticket and queued in the outbox for the citizen's channel."""
    ticket = get_open_ticket(session, ticket_id)
    if ticket.state != "claimed" or ticket.claimed_by != staff_username:
        raise TicketError("请先接手该工单再回复。")
    cleaned = _staff_text(text)
    message = store.add_message(session, ticket, "staff", cleaned)
    message.staff_user_id = staff_id
    outbox.enqueue(
        session,
        channel=ticket.channel,
        sender_id=ticket.sender_id,
        kind="staff_reply",
        text=cleaned,
        payload={"type": "staff_reply", "ticket": ticket.id, "message": message.id},
        ticket_id=ticket.id,
        dedupe_key=f"staff_reply:{message.id}",
    )
    session.flush()
    return message


def add_note(session: Session, ticket_id: int, staff_id: int, text: str) -> HandoffMessage:
    """An internal note, visible to staff only."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        raise TicketError("工单不存在。")
    message = store.add_message(session, ticket, "note", _staff_text(text))
    message.staff_user_id = staff_id
    session.flush()
    return message


def close_open_ticket(session: Session, ticket_id: int, now: dt.datetime) -> HandoffTicket:
    """Close the ticket and tell the citizen the bot answers again.

    The caller resumes the Rasa conversation first, so a ticket is only closed once the bot
    really answers again.
    """
    ticket = get_open_ticket(session, ticket_id)
    store.close_ticket(session, ticket, now)
    _notify(session, ticket, "system", t("reply.staff_closed"), "closed")
    return ticket


def _notify(session: Session, ticket: HandoffTicket, kind: str, text: str, state: str) -> None:
    outbox.enqueue(
        session,
        channel=ticket.channel,
        sender_id=ticket.sender_id,
        kind=kind,
        text=text,
        payload={"type": "handoff", "ticket": ticket.id, "state": state, "position": 0},
        ticket_id=ticket.id,
        dedupe_key=f"ticket:{ticket.id}:{state}",
    )


def _staff_text(text: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise TicketError("内容不能为空。")
    if len(cleaned) > MAX_STAFF_TEXT:
        raise TicketError(f"内容不能超过 {MAX_STAFF_TEXT} 字。")
    return cleaned
