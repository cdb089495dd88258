"""The daily 侨法 tip ("侨法早知道"): one KB entry a day for subscribers, via the outbox.

The entry of a day is a pure function of the date (the same for every subscriber and every
process), and each subscriber's outbox row has the dedupe key `tip:<sender>:<date>`, so a
tip is queued at most once per subscriber and day however often the scheduler runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import Subscription
from core.kb.answers import answer_text, footer_fields
from core.kb.loader import KnowledgeBase
from core.kb.topics import RIGHTS_TOPICS
from core.notify import outbox
from core.notify.preferences import get_lang
from core.texts import t

TIP_KIND = "daily_tip"
# 侨法 topics: returnee and family rights, and settling back in China.
TIP_TOPICS = frozenset(RIGHTS_TOPICS)


def tip_entry_id(kb: KnowledgeBase, day: dt.date) -> str:
    """The KB id of the day's tip: the 侨法 entries in id order, one per day, cycling."""
    ids = sorted(kb_id for kb_id, entry in kb.entries.items() if entry.topic in TIP_TOPICS)
    if not ids:
        raise LookupError("the knowledge base has no 侨法 entries for tips")
    return ids[day.toordinal() % len(ids)]


def tip_message(kb: KnowledgeBase, day: dt.date, lang: str = "zh") -> tuple[str, dict[str, Any]]:
    """Text and payload of the day's tip, with the entry's sources.

    Like a KB answer, the text is the heading and the answer body; the policy (or 待核实) note
    and the office contact travel as the payload's `footer`, which Telegram and WeChat show as
    one short line under the tip.
    """
    kb_id = tip_entry_id(kb, day)
    entry = kb.entries[kb_id]
    answer, english = answer_text(kb, kb_id, lang)
    title = (entry.title_en or entry.title) if english else entry.title
    header = t("reply.tip_header", "en" if english else "zh")
    text = f"{header}{title}\n\n{answer}"
    payload = {
        "type": "tip",
        "kb_id": kb_id,
        "date": day.isoformat(),
        "lang": "en" if english else "zh",
        "sources": [{"title": s.title, "url": str(s.url)} for s in entry.sources],
        "last_reviewed": entry.last_reviewed.isoformat(),
        **footer_fields(kb, kb_id, lang),
    }
    return text, payload


def is_subscribed(session: Session, sender_id: str) -> bool:
    """True when the sender gets the daily tip."""
    return _find(session, sender_id) is not None


def subscribe(session: Session, sender_id: str) -> bool:
    """Subscribe the sender; False when already subscribed."""
    if _find(session, sender_id) is not None:
        return False
    session.add(Subscription(sender_id=sender_id, kind=TIP_KIND, case_id=None))
    session.flush()
    return True


def unsubscribe(session: Session, sender_id: str) -> bool:
    """Delete the sender's subscription; False when there was none."""
    rows = list(
        session.scalars(
            select(Subscription).where(
                Subscription.sender_id == sender_id, Subscription.kind == TIP_KIND
            )
        )
    )
    for row in rows:
        session.delete(row)
    session.flush()
    return bool(rows)


def due_day(now: dt.datetime, at: dt.time, timezone: str) -> dt.date | None:
    """The local date whose tip is due at `now` (UTC-aware), or None before today's tip time."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.date() if local.time().replace(tzinfo=None) >= at else None


def dedupe_key(sender_id: str, day: dt.date) -> str:
    """Outbox key that makes a tip unique per subscriber and day."""
    return f"tip:{sender_id}:{day.isoformat()}"


def enqueue_daily_tips(session: Session, kb: KnowledgeBase, day: dt.date) -> int:
    """Queue the day's tip for every subscriber who has not got it yet; how many were queued."""
    senders = sorted(
        set(session.scalars(select(Subscription.sender_id).where(Subscription.kind == TIP_KIND)))
    )
    queued = 0
    for sender_id in senders:
        key = dedupe_key(sender_id, day)
        if outbox.is_queued(session, key):
            continue
        text, payload = tip_message(kb, day, get_lang(session, sender_id))
        outbox.enqueue(
            session,
            channel=outbox.channel_of(sender_id),
            sender_id=sender_id,
            kind="tip",
            text=text,
            payload=payload,
            dedupe_key=key,
        )
        queued += 1
    return queued


def _find(session: Session, sender_id: str) -> Subscription | None:
    return session.scalar(
        select(Subscription)
        .where(Subscription.sender_id == sender_id, Subscription.kind == TIP_KIND)
        .limit(1)
    )
