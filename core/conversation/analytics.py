"""Service analytics: turns, tickets, unanswered questions, feedback.

`record_turn` stores one row per citizen message (reply kind, KB id, topic; sender hashed,
never the text) and `observe_turn` counts it in Prometheus. The console's analytics page calls
`summary` and draws the charts as SVG.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import metrics
from core.conversation.replies import PAYLOAD_TYPES
from core.db.models import (
    BotTurn,
    Feedback,
    HandoffMessage,
    HandoffTicket,
    ServiceRating,
    UnansweredQuestion,
)
from core.db.utc import aware
from core.hashing import salted_hash

# The reply kind that best describes a turn, when several payloads came back.
PRECEDENCE = ("emergency", "handoff", "kb_answer", "suggestions", "out_of_scope", "fallback")
RATE_LABELS = {
    "kb_answer": "已解答",
    "suggestions": "给出候选问题",
    "fallback": "未理解",
    "out_of_scope": "超出范围",
    "handoff": "转人工",
    "emergency": "紧急情况",
    "in_ticket": "人工服务中",
    "other": "其他",
}


def turn_type(payload_types: list[str]) -> str:
    """One kind for a turn's replies."""
    for kind in PRECEDENCE:
        if kind in payload_types:
            return kind
    return payload_types[-1] if payload_types else "other"


def record_turn(
    session: Session,
    salt: str,
    sender_id: str,
    channel: str,
    payloads: list[dict[str, Any]],
) -> BotTurn:
    """Store what kind of reply one citizen message got."""
    kind = turn_type([str(p.get("type")) for p in payloads if p.get("type")])
    main = next((p for p in payloads if p.get("type") == kind), {})
    turn = BotTurn(
        channel=channel,
        sender_hash=salted_hash(salt, "turn", sender_id),
        reply_type=kind[:32],
        kb_id=main.get("kb_id") if kind == "kb_answer" else None,
        topic=main.get("topic") if kind == "kb_answer" else None,
    )
    session.add(turn)
    session.flush()
    return turn


def observe_turn(channel: str, payload_types: list[str], outcome: str = "answered") -> None:
    """Count one citizen message and the payload types of its replies."""
    metrics.TURNS.labels(channel, outcome).inc()
    for kind in payload_types:
        kind = kind if kind in PAYLOAD_TYPES else "other"
        metrics.REPLIES.labels(channel, kind).inc()
        if kind in ("fallback", "out_of_scope"):
            metrics.FALLBACKS.labels(channel, kind).inc()
        elif kind == "emergency":
            metrics.HANDOFFS.labels(channel, "emergency").inc()
        elif kind == "unavailable":
            metrics.HANDOFFS.labels(channel, "bot_unavailable").inc()
    if "handoff" in payload_types and "emergency" not in payload_types:
        metrics.HANDOFFS.labels(channel, "requested").inc()


@dataclass
class Summary:
    """Everything the analytics page shows, for the `days` up to `until`."""

    days: list[dt.date]
    conversations: list[int]
    handoffs: list[int]
    turns: int
    rates: list[tuple[str, int, float]]  # label, count, share
    topics: list[tuple[str, int]]
    unanswered: list[tuple[str, int]]
    helpful: int = 0
    unhelpful: int = 0
    feedback_by_entry: list[tuple[str, int, int]] = field(default_factory=list)
    # Human service: 1–5 ratings, and minutes to the first staff reply / to closing, per day.
    ratings: list[int] = field(default_factory=list)  # how many of each score 1..5
    rating_avg: list[float | None] = field(default_factory=list)  # per day
    first_reply_min: list[float | None] = field(default_factory=list)  # median per day
    close_min: list[float | None] = field(default_factory=list)  # median per day
    by_channel: list[tuple[str, int]] = field(default_factory=list)  # citizen messages

    @property
    def rating_mean(self) -> float | None:
        """The average 1–5 score (None without ratings)."""
        total = sum(self.ratings)
        return sum(n * s for s, n in enumerate(self.ratings, 1)) / total if total else None

    @property
    def satisfaction(self) -> float | None:
        """Share of 👍 among all votes (None without votes)."""
        votes = self.helpful + self.unhelpful
        return self.helpful / votes if votes else None


def _day(value: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return aware(value).astimezone(tz).date()


def summary(session: Session, now: dt.datetime, tz: dt.tzinfo, days: int = 14) -> Summary:
    """Aggregate the last `days` days (local dates in `tz`)."""
    today = now.astimezone(tz).date()
    dates = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    since = dt.datetime.combine(dates[0], dt.time(), tzinfo=tz).astimezone(dt.UTC)

    turns = session.execute(
        select(
            BotTurn.created_at,
            BotTurn.sender_hash,
            BotTurn.reply_type,
            BotTurn.topic,
            BotTurn.channel,
        ).where(BotTurn.created_at >= since)
    ).all()
    senders: dict[dt.date, set[str]] = {d: set() for d in dates}
    kinds: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for created, sender_hash, kind, topic, channel in turns:
        senders.setdefault(_day(created, tz), set()).add(sender_hash)
        kinds[kind] += 1
        channels[channel] += 1
        if topic:
            topics[topic] += 1
    total = sum(kinds.values())
    order = ["kb_answer", "suggestions", "fallback", "out_of_scope", "handoff", "emergency"]
    rates = [(RATE_LABELS[k], kinds[k], kinds[k] / total if total else 0.0) for k in order]

    tickets = session.scalars(
        select(HandoffTicket.created_at).where(HandoffTicket.created_at >= since)
    ).all()
    per_day_tickets = Counter(_day(created, tz) for created in tickets)

    unanswered = Counter(
        text.strip()[:80]
        for text in session.scalars(
            select(UnansweredQuestion.text).where(UnansweredQuestion.created_at >= since)
        )
    )
    votes = session.execute(
        select(Feedback.kb_id, Feedback.helpful).where(Feedback.created_at >= since)
    ).all()
    by_entry: dict[str, list[int]] = {}
    for kb_id, helpful in votes:
        counts = by_entry.setdefault(kb_id, [0, 0])
        counts[0 if helpful else 1] += 1
    service = _service(session, since, dates, tz)
    return Summary(
        **service,
        by_channel=sorted(channels.items(), key=lambda c: (-c[1], c[0])),
        days=dates,
        conversations=[len(senders.get(d, ())) for d in dates],
        handoffs=[per_day_tickets.get(d, 0) for d in dates],
        turns=total,
        rates=rates,
        topics=topics.most_common(10),
        unanswered=unanswered.most_common(10),
        helpful=sum(1 for _, h in votes if h),
        unhelpful=sum(1 for _, h in votes if not h),
        feedback_by_entry=sorted(
            ((k, v[0], v[1]) for k, v in by_entry.items()), key=lambda e: -(e[1] + e[2])
        )[:10],
    )


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _service(
    session: Session, since: dt.datetime, dates: list[dt.date], tz: dt.tzinfo
) -> dict[str, Any]:
    """Ratings per score and per day; minutes to the first staff reply and to closing, by the
    day the ticket was opened (every channel counted alike)."""
    ratings = session.execute(
        select(ServiceRating.created_at, ServiceRating.score).where(
            ServiceRating.created_at >= since
        )
    ).all()
    per_score = [0] * 5
    per_day: dict[dt.date, list[int]] = {}
    for created, score in ratings:
        if 1 <= score <= 5:
            per_score[score - 1] += 1
            per_day.setdefault(_day(created, tz), []).append(score)
    tickets = session.execute(
        select(HandoffTicket.id, HandoffTicket.created_at, HandoffTicket.closed_at).where(
            HandoffTicket.created_at >= since
        )
    ).all()
    first = dict(
        session.execute(
            select(HandoffMessage.ticket_id, func.min(HandoffMessage.created_at))
            .where(
                HandoffMessage.author == "staff",
                HandoffMessage.ticket_id.in_([t.id for t in tickets]),
            )
            .group_by(HandoffMessage.ticket_id)
        ).all()
    )
    to_first: dict[dt.date, list[float]] = {}
    to_close: dict[dt.date, list[float]] = {}
    for ticket_id, created, closed in tickets:
        day = _day(created, tz)
        if ticket_id in first:
            minutes = (aware(first[ticket_id]) - aware(created)).total_seconds() / 60
            to_first.setdefault(day, []).append(minutes)
        if closed is not None:
            to_close.setdefault(day, []).append(
                (aware(closed) - aware(created)).total_seconds() / 60
            )
    return {
        "ratings": per_score,
        "rating_avg": [
            round(sum(per_day[d]) / len(per_day[d]), 2) if d in per_day else None for d in dates
        ],
        "first_reply_min": [_median(to_first.get(d, [])) for d in dates],
        "close_min": [_median(to_close.get(d, [])) for d in dates],
    }


@dataclass(frozen=True)
class Bar:
    """One bar of an SVG chart, in chart coordinates."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


def bars(
    labels: list[str],
    values: list[float],
    *,
    width: int = 640,
    height: int = 200,
    value_format: str = "{:g}",
) -> list[Bar]:
    """Vertical bars filling a width × height plot area (labels drawn under it)."""
    if not values:
        return []
    top = max(values) or 1
    slot = width / len(values)
    return [
        Bar(
            x=round(i * slot + slot * 0.15, 1),
            y=round(height - height * v / top, 1),
            width=round(slot * 0.7, 1),
            height=round(height * v / top, 1),
            label=label,
            value=value_format.format(v),
        )
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
    ]


def hbars(
    labels: list[str], values: list[float], *, width: int = 360, value_format: str = "{:g}"
) -> list[Bar]:
    """Horizontal bars, 24 px per row, longest = width."""
    top = max(values, default=0) or 1
    return [
        Bar(
            x=0,
            y=i * 24,
            width=round(width * v / top, 1),
            height=18,
            label=label,
            value=value_format.format(v),
        )
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
    ]


def ticks(values: list[float], *, height: int = 200, count: int = 4) -> list[tuple[float, str]]:
    """Y-axis values for a bar chart scaled like `bars`: (y in chart coordinates, label)."""
    top = max(values, default=0) or 1
    out = []
    for i in range(count + 1):
        value = top * i / count
        label = f"{value:.0f}" if top >= count or value == int(value) else f"{value:.1f}"
        out.append((round(height - height * i / count, 1), label))
    return out
