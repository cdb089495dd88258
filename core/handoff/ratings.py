"""After a ticket is closed the citizen is asked to rate the human service from 1 to 5.

The question goes through the outbox of the ticket's channel (a `rating_request` payload:
the widget shows five buttons, Telegram inline buttons, WeChat a digit reply); one rating per
ticket is stored, with the channel and the time, never who gave it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import HandoffTicket, Outbox, ServiceRating
from core.db.utc import aware
from core.notify import outbox
from core.notify.preferences import get_lang
from core.texts import t

SCALE = (1, 2, 3, 4, 5)
DIGIT_WINDOW = dt.timedelta(hours=48)  # a bare digit counts as the rating this long after closing


class RatingError(Exception):
    """The rating cannot be stored (wrong ticket, not closed, already rated, out of range)."""


def request_rating(session: Session, ticket: HandoffTicket) -> Outbox:
    """Queue the 1–5 question for the citizen of a closed ticket (once per ticket)."""
    lang = get_lang(session, ticket.sender_id)
    return outbox.enqueue(
        session,
        channel=ticket.channel,
        sender_id=ticket.sender_id,
        kind="rating_request",
        text=t("reply.rating_request", lang),
        payload={"type": "rating_request", "ticket": ticket.id, "scale": list(SCALE)},
        ticket_id=ticket.id,
        dedupe_key=f"ticket:{ticket.id}:rating",
    )


def record_rating(
    session: Session, sender_id: str, ticket_id: int, score: int, now: dt.datetime
) -> ServiceRating:
    """Store the citizen's rating of their closed ticket; RatingError otherwise."""
    if score not in SCALE:
        raise RatingError("score must be 1–5")
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None or ticket.sender_id != sender_id:
        raise RatingError("no such ticket for this conversation")
    if ticket.state != "closed":
        raise RatingError("the ticket is still open")
    if session.scalar(select(ServiceRating.id).where(ServiceRating.ticket_id == ticket_id)):
        raise RatingError("already rated")
    rating = ServiceRating(ticket_id=ticket_id, channel=ticket.channel, score=score, created_at=now)
    session.add(rating)
    session.flush()
    return rating


def rate_by_digit(session: Session, sender_id: str, digit: int, now: dt.datetime) -> str | None:
    """A bare digit 1–5 soon after a rating request rates that ticket: the thanks text, or None
    when the digit is not a rating (no recent unanswered request), so it is handled as usual."""
    if digit not in SCALE:
        return None
    ticket_id = session.scalar(
        select(Outbox.ticket_id)
        .where(
            Outbox.sender_id == sender_id,
            Outbox.kind == "rating_request",
            Outbox.created_at >= now - DIGIT_WINDOW,
        )
        .order_by(Outbox.id.desc())
        .limit(1)
    )
    if ticket_id is None:
        return None
    try:
        record_rating(session, sender_id, ticket_id, digit, now)
    except RatingError:
        return None
    return t("reply.rating_thanks", get_lang(session, sender_id))


def thanks(session: Session, sender_id: str) -> str:
    """The thanks line in the citizen's language."""
    return t("reply.rating_thanks", get_lang(session, sender_id))


def ticket_rating(session: Session, ticket_id: int) -> int | None:
    """The score given for a ticket, if any."""
    return session.scalar(select(ServiceRating.score).where(ServiceRating.ticket_id == ticket_id))


def ratings_since(session: Session, since: dt.datetime) -> list[tuple[dt.datetime, int]]:
    """(when, score) of every rating since `since`."""
    rows = session.execute(
        select(ServiceRating.created_at, ServiceRating.score).where(
            ServiceRating.created_at >= since
        )
    ).all()
    return [(aware(at), score) for at, score in rows]
