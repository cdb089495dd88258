"""Handing the conversation to staff ("转人工")."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import log_event
from core.db.engine import session_scope
from core.handoff.tickets import request_handoff
from core.services import get_kb, get_sessionmaker

logger = logging.getLogger(__name__)


def last_topic(tracker: Tracker) -> str | None:
    """Topic of the latest KB answer or suggestion in this conversation, for staff triage."""
    for event in reversed(tracker.events):
        if event.get("event") != "bot":
            continue
        custom = (event.get("data") or {}).get("custom") or {}
        if custom.get("topic"):
            return str(custom["topic"])
    return None


class ActionOpenHandoff(Action):
    """Open (or reuse) a ticket, tell the citizen their place in the queue, pause the bot."""

    def name(self) -> str:
        return "action_open_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        office = get_kb().office
        try:
            with session_scope(get_sessionmaker()) as session:
                info = request_handoff(
                    session, tracker.sender_id, "citizen_request", topic=last_topic(tracker)
                )
        except Exception:
            logger.exception("handoff_failed", extra={"event": "handoff_failed"})
            dispatcher.utter_message(
                text=f"抱歉，暂时无法转接人工服务，请稍后再试，或在工作时间联系办公室：{office.contact}",
                json_message={"type": "handoff_unavailable"},
            )
            return []
        dispatcher.utter_message(
            text=(
                f"已为您转接人工服务（工单号 #{info.ticket}），当前排队第 {info.position} 位。"
                f"人工服务时间：{office.handoff_hours}。您接下来发送的消息会直接转给工作人员。"
            ),
            json_message=info.payload(),
        )
        log_event("handoff", tracker, ticket=info.ticket)
        return [ConversationPaused()]
