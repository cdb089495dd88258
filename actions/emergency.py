"""Emergencies: the hotline first (brief §7.3 wording), then an urgent handoff ticket."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import log_event, message_text
from core.conversation import replies
from core.conversation.emergency import Emergency, detect, template
from core.conversation.safety import emergency_reply
from core.db.engine import session_scope
from core.handoff.tickets import request_handoff
from core.services import get_sessionmaker, handoff_hours

logger = logging.getLogger(__name__)


def respond_emergency(
    dispatcher: CollectingDispatcher, tracker: Tracker, emergency: Emergency
) -> list[dict[str, Any]]:
    """Send the template, open an urgent ticket and pause the bot for this conversation."""
    english = replies.looks_english(message_text(tracker)) or metadata(tracker).get("lang") == "en"
    ticket: int | None = None
    try:
        with session_scope(get_sessionmaker()) as session:
            ticket = request_handoff(
                session, tracker.sender_id, f"emergency:{emergency.kind}", priority="urgent"
            ).ticket
    except Exception:  # the hotline matters more than the ticket; say so honestly
        logger.exception("emergency_ticket_failed", extra={"event": "emergency_ticket_failed"})
    text, payload = emergency_reply(
        emergency, english=english, ticket=ticket, handoff_hours=handoff_hours("en" if english else "zh")
    )
    dispatcher.utter_message(text=text, json_message=payload)
    log_event("emergency", tracker, kind=emergency.kind, ticket=ticket)
    return [ConversationPaused()] if ticket is not None else []


def metadata(tracker: Tracker) -> dict[str, Any]:
    return (tracker.latest_message or {}).get("metadata") or {}


class ActionHandleEmergency(Action):
    """The `report_emergency` intent: pick the template from the wording."""

    def name(self) -> str:
        return "action_handle_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # The relay's check (keywords + semantic) names the kind in the metadata.
        kind = metadata(tracker).get("emergency")
        emergency = detect(message_text(tracker)) or template(str(kind or "danger"))
        return respond_emergency(dispatcher, tracker, emergency)
