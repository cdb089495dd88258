"""The staff console's queue: open tickets, why they were opened, how long they have waited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.db.utc import aware
from core.handoff import store

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


CHANNEL_ZH = {"web": "网页", "tg": "Telegram", "wx": "微信"}


def channel_label(channel: str) -> str:
    """A channel's name in Chinese."""
    return CHANNEL_ZH.get(channel, channel)


def wait_level(seconds: int, target_s: int) -> str:
    """How a waiting time compares with the target: "ok", "warn" (past half), "over"."""
    if seconds >= target_s:
        return "over"
    return "warn" if seconds * 2 >= target_s else "ok"


def format_wait(seconds: int) -> str:
    """Waiting time for people: "45 秒", "12 分钟", "3 小时 5 分"."""
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分钟"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"


def list_queue(session: Session, now: dt.datetime) -> list[QueueItem]:
    """Open tickets: emergencies first, then oldest first."""
    items = []
    for ticket in store.list_open(session):
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
