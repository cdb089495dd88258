"""Finding tickets: by number, channel, date, topic or text; a citizen's earlier tickets."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import HandoffMessage, HandoffTicket

MAX_RESULTS = 100
NUMBER_RE = re.compile(r"^#?\s*(\d{1,9})$")


@dataclass(frozen=True)
class TicketQuery:
    """What staff searched for; empty fields do not filter."""

    text: str = ""  # a ticket number ("#12", "12") or words in the ticket's messages
    channel: str = ""
    topic: str = ""
    date_from: dt.date | None = None  # local dates, inclusive
    date_to: dt.date | None = None

    @property
    def empty(self) -> bool:
        """Nothing to search for."""
        return not (
            self.text.strip() or self.channel or self.topic or self.date_from or self.date_to
        )


def search_tickets(session: Session, query: TicketQuery, tz: dt.tzinfo) -> list[HandoffTicket]:
    """Tickets matching every given field, newest first (at most MAX_RESULTS)."""
    stmt = select(HandoffTicket)
    text = query.text.strip()
    number = NUMBER_RE.match(text)
    if number:
        stmt = stmt.where(HandoffTicket.id == int(number.group(1)))
    elif text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching = select(HandoffMessage.ticket_id).where(
            HandoffMessage.text.like(pattern, escape="\\"), HandoffMessage.author != "note"
        )
        stmt = stmt.where(HandoffTicket.id.in_(matching))
    if query.channel:
        stmt = stmt.where(HandoffTicket.channel == query.channel)
    if query.topic:
        stmt = stmt.where(HandoffTicket.topic == query.topic)
    if query.date_from:
        start = dt.datetime.combine(query.date_from, dt.time(), tzinfo=tz)
        stmt = stmt.where(HandoffTicket.created_at >= start.astimezone(dt.UTC))
    if query.date_to:
        end = dt.datetime.combine(query.date_to + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        stmt = stmt.where(HandoffTicket.created_at < end.astimezone(dt.UTC))
    return list(session.scalars(stmt.order_by(HandoffTicket.id.desc()).limit(MAX_RESULTS)))


def earlier_tickets(
    session: Session, ticket: HandoffTicket, limit: int = 20
) -> list[HandoffTicket]:
    """The same citizen's (same sender id) other tickets, newest first."""
    return list(
        session.scalars(
            select(HandoffTicket)
            .where(HandoffTicket.sender_id == ticket.sender_id, HandoffTicket.id != ticket.id)
            .order_by(HandoffTicket.id.desc())
            .limit(limit)
        )
    )


def channels_and_topics(session: Session) -> tuple[list[str], list[str]]:
    """The channels and topics tickets have, for the search form's choices."""
    channels = session.scalars(select(HandoffTicket.channel).distinct()).all()
    topics = session.scalars(
        select(HandoffTicket.topic).where(HandoffTicket.topic.is_not(None)).distinct()
    ).all()
    return sorted(c for c in channels if c), sorted(t for t in topics if t)
