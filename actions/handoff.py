"""Handing the conversation to staff ("转人工")."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CitizenAction, Domain, Events
from actions.common import log_event
from core.db.engine import session_scope
from core.handoff.tickets import request_handoff
from core.services import get_kb, get_sessionmaker
from core.texts import t

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


class ActionOpenHandoff(CitizenAction):
    """Open (or reuse) a ticket, tell the citizen their place in the queue, pause the bot."""

    def name(self) -> str:
        return "action_open_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        office = get_kb().office
        try:
            with session_scope(get_sessionmaker()) as session:
                info = request_handoff(
                    session, tracker.sender_id, "citizen_request", topic=last_topic(tracker)
                )
        except Exception:
            logger.exception("handoff_failed", extra={"event": "handoff_failed"})
            dispatcher.utter_message(
                text=t("reply.handoff_unavailable", contact=office.contact),
                json_message={"type": "handoff_unavailable"},
            )
            return []
        dispatcher.utter_message(
            text=t(
                "reply.handoff",
                ticket=info.ticket,
                position=info.position,
                hours=office.handoff_hours,
            ),
            json_message=info.payload(),
        )
        log_event("handoff", tracker, ticket=info.ticket)
        return [ConversationPaused()]
