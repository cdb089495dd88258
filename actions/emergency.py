"""Emergencies: the hotline first (brief §7.3 wording), then an urgent handoff ticket."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CitizenAction, Domain, Events, metadata, respond_emergency
from actions.common import message_text
from core.conversation.emergency import detect, template

__all__ = ["ActionHandleEmergency"]


class ActionHandleEmergency(CitizenAction):
    """The `report_emergency` intent: pick the template from the wording."""

    emergency_first = False  # this action is the emergency answer

    def name(self) -> str:
        return "action_handle_emergency"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        # The relay's check (keywords + semantic) names the kind in the metadata.
        kind = metadata(tracker).get("emergency")
        emergency = detect(message_text(tracker)) or template(str(kind or "danger"))
        return respond_emergency(dispatcher, tracker, emergency)
