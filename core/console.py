"""What the staff console and the widget history show: the queue and conversations so far."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, selectinload

from core.db.models import HandoffMessage, HandoffTicket, Outbox
from core.db.repos.handoff import OPEN_STATES

REASON_ZH = {
    "citizen_request": "市民请求人工",
    "bot_unavailable": "机器人不可用时的留言",
}


def reason_label(reason: str) -> str:
    """Why a ticket was opened, in Chinese."""
    if reason.startswith("emergency"):
        return "紧急情况"
    return REASON_ZH.get(reason, reason)


@dataclass(frozen=True)
class QueueItem:
    """One open ticket as the queue lists it."""

    id: int
    channel: str
    priority: str
    state: str
    topic: str | None
    reason: str
    claimed_by: str | None
    waiting_s: int
    last_text: str | None

    @property
    def urgent(self) -> bool:
        """Emergency tickets are highlighted and listed first."""
        return self.priority == "urgent"

    @property
    def reason_label(self) -> str:
        """Reason in Chinese."""
        return reason_label(self.reason)


@dataclass
class ConversationItem:
    """One line of a conversation: citizen, bot, staff, internal note or system notice."""

    at: dt.datetime
    author: str  # citizen | bot | staff | note | system
    text: str | None
    custom: dict[str, Any] | None = field(default=None)

    def as_widget(self) -> dict[str, Any]:
        """JSON for the widget's history."""
        return {
            "role": {"citizen": "user"}.get(self.author, self.author),
            "text": self.text,
            "custom": self.custom,
            "at": self.at.isoformat(),
        }


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def format_wait(seconds: int) -> str:
    """Waiting time for people: "45 秒", "12 分钟", "3 小时 5 分"."""
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分钟"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"


def list_queue(session: Session, now: dt.datetime) -> list[QueueItem]:
    """Open tickets: emergencies first, then oldest first."""
    urgent_first = case((HandoffTicket.priority == "urgent", 0), else_=1)
    tickets = session.scalars(
        select(HandoffTicket)
        .where(HandoffTicket.state.in_(OPEN_STATES))
        .options(selectinload(HandoffTicket.messages))
        .order_by(urgent_first, HandoffTicket.id)
    )
    items = []
    for ticket in tickets:
        from_citizen = [m.text for m in ticket.messages if m.author == "citizen"]
        items.append(
            QueueItem(
                id=ticket.id,
                channel=ticket.channel,
                priority=ticket.priority,
                state=ticket.state,
                topic=ticket.topic,
                reason=ticket.reason,
                claimed_by=ticket.claimed_by,
                waiting_s=max(0, int((now - aware(ticket.created_at)).total_seconds())),
                last_text=from_citizen[-1] if from_citizen else None,
            )
        )
    return items


def tracker_items(events: list[dict[str, Any]]) -> list[ConversationItem]:
    """Citizen and bot turns from a Rasa tracker's events."""
    items = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not isinstance(event.get("timestamp"), int | float):
            continue
        at = dt.datetime.fromtimestamp(event["timestamp"], dt.UTC)
        data = event.get("data") or {}
        custom = data.get("custom") if isinstance(data, dict) else None
        text = event.get("text")
        if kind == "user":
            if isinstance(text, str) and not text.startswith("/"):
                items.append(ConversationItem(at, "citizen", text))
        elif isinstance(text, str) or isinstance(custom, dict):
            items.append(
                ConversationItem(
                    at,
                    "bot",
                    text if isinstance(text, str) else None,
                    custom if isinstance(custom, dict) else None,
                )
            )
    return items


def ticket_items(messages: list[HandoffMessage], *, notes: bool) -> list[ConversationItem]:
    """Messages kept in tickets (citizen messages during the handoff, staff replies, notes)."""
    return [
        ConversationItem(aware(m.created_at), m.author, m.text)
        for m in messages
        if notes or m.author != "note"
    ]


def sender_ticket_messages(session: Session, sender_id: str) -> list[HandoffMessage]:
    """Every ticket message of one sender, oldest first."""
    return list(
        session.scalars(
            select(HandoffMessage)
            .join(HandoffTicket)
            .where(HandoffTicket.sender_id == sender_id)
            .order_by(HandoffMessage.id)
        )
    )


def delivered_outbox_items(session: Session, sender_id: str) -> list[ConversationItem]:
    """Outbox rows already delivered to this sender (staff replies and notices)."""
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.sender_id == sender_id, Outbox.sent_at.is_not(None))
        .order_by(Outbox.id)
    )
    return [
        ConversationItem(
            aware(row.created_at),
            "staff" if row.kind == "staff_reply" else "system",
            row.text,
            row.payload,
        )
        for row in rows
    ]


def merge(*parts: list[ConversationItem]) -> list[ConversationItem]:
    """One timeline, oldest first (stable for equal timestamps)."""
    return sorted((item for part in parts for item in part), key=lambda item: item.at)


def citizen_history(
    session: Session, sender_id: str, events: list[dict[str, Any]]
) -> list[ConversationItem]:
    """What the citizen saw: bot turns, their messages to staff, delivered staff messages."""
    own = [
        ConversationItem(aware(m.created_at), "citizen", m.text)
        for m in sender_ticket_messages(session, sender_id)
        if m.author == "citizen"
    ]
    return merge(tracker_items(events), own, delivered_outbox_items(session, sender_id))


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


def take_pending(session: Session, sender_id: str, now: dt.datetime) -> list[ConversationItem]:
    """Undelivered outbox rows of one widget sender, marked sent as they are taken.

    Each row is taken with a conditional UPDATE, so two open streams never both deliver it.
    """
    rows = list(
        session.scalars(
            select(Outbox)
            .where(Outbox.sender_id == sender_id, Outbox.sent_at.is_(None))
            .order_by(Outbox.id)
            .limit(50)
        )
    )
    taken = []
    for row in rows:
        result = session.execute(
            update(Outbox)
            .where(Outbox.id == row.id, Outbox.sent_at.is_(None))
            .values(sent_at=now, attempts=Outbox.attempts + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(
                ConversationItem(
                    aware(row.created_at),
                    "staff" if row.kind == "staff_reply" else "system",
                    row.text,
                    row.payload,
                )
            )
    return taken
