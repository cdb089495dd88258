"""Conversations so far, as the staff console and the widget history show them: Rasa tracker
turns, ticket messages and delivered outbox rows on one timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core.db.models import HandoffMessage, Outbox
from core.db.utc import aware
from core.handoff import store
from core.notify import outbox
from core.redaction import redact_events


@dataclass
class ConversationItem:
    """One line of a conversation: citizen, bot, staff, internal note or system notice."""

    at: dt.datetime
    author: str  # citizen | bot | staff | note | system
    text: str | None
    custom: dict[str, Any] | None = field(default=None)
    outbox_id: int | None = None  # rows from the outbox: the widget's delivery cursor

    def as_widget(self) -> dict[str, Any]:
        """JSON for the widget's history."""
        return {
            "role": {"citizen": "user"}.get(self.author, self.author),
            "text": self.text,
            "custom": self.custom,
            "at": self.at.isoformat(),
            "id": self.outbox_id,
        }


def tracker_items(events: list[dict[str, Any]]) -> list[ConversationItem]:
    """Citizen and bot turns from a Rasa tracker's events, verification secrets redacted
    (core.redaction: the store already holds them redacted; older trackers may not)."""
    items = []
    for event in redact_events(events):
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


def delivered_outbox_items(session: Session, sender_id: str) -> list[ConversationItem]:
    """Outbox rows already delivered to this sender (staff replies and notices)."""
    return [_outbox_item(row) for row in outbox.delivered(session, sender_id)]


def _outbox_item(row: Outbox) -> ConversationItem:
    return ConversationItem(
        aware(row.created_at),
        "staff" if row.kind == "staff_reply" else "system",
        row.text,
        row.payload,
        row.id,
    )


def merge(*parts: list[ConversationItem]) -> list[ConversationItem]:
    """One timeline, oldest first (stable for equal timestamps)."""
    return sorted((item for part in parts for item in part), key=lambda item: item.at)


def citizen_history(
    session: Session, sender_id: str, events: list[dict[str, Any]]
) -> list[ConversationItem]:
    """What the citizen saw: bot turns, their messages to staff, delivered staff messages."""
    own = [
        ConversationItem(aware(m.created_at), "citizen", m.text)
        for m in store.sender_messages(session, sender_id)
        if m.author == "citizen"
    ]
    return merge(tracker_items(events), own, delivered_outbox_items(session, sender_id))


def take_pending(session: Session, sender_id: str, now: dt.datetime) -> list[ConversationItem]:
    """Undelivered outbox rows of one widget sender, marked sent as they are taken.

    Each row is taken with a conditional UPDATE, so two open streams never both deliver it.
    """
    return [_outbox_item(row) for row in outbox.take_pending(session, sender_id, now)]


def updates_after(
    session: Session, sender_id: str, after_id: int, now: dt.datetime
) -> list[ConversationItem]:
    """Outbox rows of one widget sender newer than `after_id` (the tab's cursor), oldest first.

    Every open tab of the conversation reads with its own cursor, so a staff reply reaches all
    of them; the rows are marked delivered the first time any tab reads them.
    """
    return [_outbox_item(row) for row in outbox.read_after(session, sender_id, after_id, now)]


def widget_cursor(session: Session, sender_id: str, now: dt.datetime) -> int:
    """The newest outbox row id of a sender (0 when none): where a freshly loaded tab starts.

    Rows up to it are in the history the tab just loaded, so they count as delivered."""
    rows = outbox.read_after(session, sender_id, 0, now, limit=None)
    return rows[-1].id if rows else 0
