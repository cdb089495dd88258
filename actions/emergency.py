"""Emergencies: the hotline first (brief §7.3 wording), then an urgent handoff ticket."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import log_event, message_text
from core import replies
from core.db.engine import session_scope
from core.emergency import HOTLINE, Emergency, detect, template
from core.handoff import request_handoff
from core.services import get_kb, get_sessionmaker

logger = logging.getLogger(__name__)


def respond_emergency(
    dispatcher: CollectingDispatcher, tracker: Tracker, emergency: Emergency
) -> list[dict[str, Any]]:
    """Send the template, open an urgent ticket and pause the bot for this conversation."""
    english = replies.looks_english(message_text(tracker))
    text = emergency.text_en if english else emergency.text_zh
    ticket: int | None = None
    try:
        with session_scope(get_sessionmaker()) as session:
            ticket = request_handoff(
                session, tracker.sender_id, f"emergency:{emergency.kind}", priority="urgent"
            ).ticket
    except Exception:  # the hotline matters more than the ticket; say so honestly
        logger.exception("emergency_ticket_failed", extra={"event": "emergency_ticket_failed"})
    if ticket is not None:
        text += (
            f"\n\nA staff member has been notified (ticket #{ticket})."
            if english
            else f"\n\n已通知工作人员（工单号 #{ticket}）。人工服务时间：{get_kb().office.handoff_hours}；"
            "非工作时间紧急情况请直接拨打上述电话。"
        )
    else:
        text += (
            "\n\nWe could not reach a staff member just now; in an emergency call the numbers above."
            if english
            else "\n\n人工转接暂时失败，紧急情况请直接拨打上述电话。"
        )
    dispatcher.utter_message(
        text=text,
        json_message={
            "type": "emergency",
            "hotline": HOTLINE,
            "kind": emergency.kind,
            "level": emergency.level,
            "ticket": ticket,
        },
    )
    log_event("emergency", tracker, kind=emergency.kind, ticket=ticket)
    return [ConversationPaused()] if ticket is not None else []


class ActionHandleEmergency(Action):
    """The `report_emergency` intent: pick the template from the wording."""

    def name(self) -> str:
        return "action_handle_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        emergency = detect(message_text(tracker)) or template("danger")
        return respond_emergency(dispatcher, tracker, emergency)
