"""The base of the citizen-facing actions: the emergency check first, then the language.

`CitizenAction.run()` answers an emergency worded in the latest message before anything else
(the 12308 template and an urgent ticket, brief §7.3) and otherwise calls the subclass's
`act(dispatcher, tracker, domain, lang)` with the conversation's language ("zh" or "en").
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import log_event, message_text
from core.conversation import replies
from core.conversation.emergency import Emergency, detect
from core.conversation.safety import emergency_reply
from core.db.engine import session_scope
from core.handoff.tickets import request_handoff
from core.services import get_sessionmaker, handoff_hours

logger = logging.getLogger(__name__)
Events = list[dict[str, Any]]
Domain = DomainDict


def metadata(tracker: Tracker) -> dict[str, Any]:
    """The latest message's metadata (the relay's `lang`, `script`, `emergency`, …)."""
    return (tracker.latest_message or {}).get("metadata") or {}


def language_of(tracker: Tracker) -> str:
    """ "en" when the relay says so or the message is written in English; "zh" otherwise."""
    if metadata(tracker).get("lang") == "en" or replies.looks_english(message_text(tracker)):
        return "en"
    return "zh"


def respond_emergency(
    dispatcher: CollectingDispatcher, tracker: Tracker, emergency: Emergency
) -> Events:
    """Send the template, open an urgent ticket and pause the bot for this conversation."""
    english = language_of(tracker) == "en"
    ticket: int | None = None
    try:
        with session_scope(get_sessionmaker()) as session:
            ticket = request_handoff(
                session, tracker.sender_id, f"emergency:{emergency.kind}", priority="urgent"
            ).ticket
    except Exception:  # the hotline matters more than the ticket; say so honestly
        logger.exception("emergency_ticket_failed", extra={"event": "emergency_ticket_failed"})
    text, payload = emergency_reply(
        emergency,
        english=english,
        ticket=ticket,
        handoff_hours=handoff_hours("en" if english else "zh"),
    )
    dispatcher.utter_message(text=text, json_message=payload)
    log_event("emergency", tracker, kind=emergency.kind, ticket=ticket)
    return [ConversationPaused()] if ticket is not None else []


class CitizenAction(Action, ABC):
    """An action citizens see the result of: emergencies first, then `act` in their language.

    Abstract, so rasa-sdk registers only its subclasses."""

    emergency_first = True  # False only for the emergency action itself

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain
    ) -> Events:
        """Answer an emergency first; otherwise do the action in the conversation's language."""
        if self.emergency_first:
            emergency = detect(message_text(tracker))
            if emergency is not None:
                return respond_emergency(dispatcher, tracker, emergency)
        return await self.act(dispatcher, tracker, domain, language_of(tracker))

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        """What the action does (subclasses)."""
