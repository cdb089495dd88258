"""Verified case status lookup: reference + last 4 phone digits, with lockout."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import CitizenAction, Domain, Events, language_of
from actions.common import log_event
from core.cases.guard import LookupLimits
from core.cases.rules import (
    LookupDenied,
    LookupLocked,
    find_last4,
    find_query_code,
    find_reference,
    lookup_status,
    verified_reference,
)
from core.cases.sync import subscribe, unsubscribe_all
from core.db.engine import session_scope
from core.db.throttle import get_throttle
from core.hashing import salted_hash
from core.services import get_kb, get_sessionmaker
from core.settings import get_settings
from core.texts import t

logger = logging.getLogger(__name__)


def client_of(tracker: Tracker) -> str:
    """Who is asking, for the per-client budget: the widget's client address (a hash the api
    puts in the message metadata), else the sender (a messaging app's user). A widget message
    without it (not through the api) shares one bucket with every other such message."""
    metadata = tracker.latest_message.get("metadata") or {}
    client = metadata.get("client") if isinstance(metadata, dict) else None
    if isinstance(client, str) and 8 <= len(client) <= 128:
        return f"addr:{client}"
    if tracker.sender_id.startswith("web:"):
        return "web:no-address"
    return f"sender:{tracker.sender_id}"


class ValidateCaseStatusForm(FormValidationAction):
    """Normalise the reference (any case, width, spaces) and the 4 digits; re-ask otherwise."""

    def name(self) -> str:
        return "validate_case_status_form"

    def validate_case_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reference = find_reference(str(value or ""))
        if reference is None:
            dispatcher.utter_message(
                text=t("reply.status_prompt_reference_format", language_of(tracker)),
                json_message={"type": "status_prompt", "need": "reference", "error": "format"},
            )
            return {"case_reference": None}
        return {"case_reference": reference}

    def validate_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        # A reference sent again at this prompt ("繼續查剛剛那個 VA-2026-001890") is not an
        # answer: its year was read as the 4 digits, a failed attempt towards the lockout.
        # A different reference replaces the one being verified.
        reference = find_reference(text)
        switch = (
            {"case_reference": reference}
            if reference and reference != tracker.get_slot("case_reference")
            else {}
        )
        secret = find_last4(text) or find_query_code(text)
        if secret is None or len(text.strip()) > 40:
            dispatcher.utter_message(
                text=t("reply.status_prompt_verification_format", language_of(tracker)),
                json_message={"type": "status_prompt", "need": "verification", "error": "format"},
            )
            return {"phone_last4": None, **switch}
        return {"phone_last4": secret, **switch}


class ActionLookupCaseStatus(CitizenAction):
    """Verify and answer; the same reply for unknown references and wrong digits."""

    def name(self) -> str:
        return "action_lookup_case_status"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        settings = get_settings()
        reference = tracker.get_slot("case_reference") or ""
        last4 = tracker.get_slot("phone_last4") or ""
        reset = [SlotSet("case_reference", None), SlotSet("phone_last4", None)]
        salt = settings.hash_salt.get_secret_value()
        try:
            with session_scope(get_sessionmaker()) as session:
                try:
                    status = lookup_status(
                        session,
                        reference=reference,
                        secret=last4,
                        sender_hash=salted_hash(salt, "sender", tracker.sender_id),
                        client_hash=salted_hash(salt, "client", client_of(tracker)),
                        salt=salt,
                        now=dt.datetime.now(dt.UTC),
                        limits=LookupLimits.from_settings(settings),
                        throttle=get_throttle(settings.redis_url),
                    )
                except LookupDenied:
                    status = None  # the failed attempt must be committed: it counts to the lockout
        except LookupLocked as locked:
            minutes = max(1, round(locked.retry_after_s / 60))
            key = (
                "reply.status_locked_query_code"
                if locked.query_code_works
                else "reply.status_locked"
            )
            text = t(key, lang, minutes=minutes)
            dispatcher.utter_message(
                text=text,
                json_message={
                    "type": "status_denied",
                    "retry_after_s": locked.retry_after_s,
                    "query_code": locked.query_code_works,
                },
            )
            log_event("status_locked", tracker, kind=locked.scope)
            return reset
        except Exception:
            logger.exception("status_lookup_failed", extra={"event": "status_lookup_failed"})
            dispatcher.utter_message(
                text=t("reply.status_unavailable", lang, contact=get_kb().office.contact),
                json_message={"type": "status_unavailable"},
            )
            return reset
        if status is None:
            dispatcher.utter_message(
                text=t("reply.status_denied", lang), json_message={"type": "status_denied"}
            )
            log_event("status_denied", tracker)
            return reset
        dispatcher.utter_message(
            # The card is Chinese; the relay renders English conversations from the payload.
            text=status.text() + "\n\n" + t("reply.status_notify_hint"),
            json_message={"type": "status", **status.payload()},
        )
        log_event("status", tracker, kind=status.kind, state=status.state)
        return [*reset, SlotSet("verified_case", status.reference)]


class ActionSubscribeCase(CitizenAction):
    """Subscribe the sender to the case they verified last (recorded in the app database)."""

    def name(self) -> str:
        return "action_subscribe_case"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        settings = get_settings()
        sender_hash = salted_hash(
            settings.hash_salt.get_secret_value(), "sender", tracker.sender_id
        )
        try:
            with session_scope(get_sessionmaker()) as session:
                # The app database must hold this sender's own recent successful verification:
                # the `verified_case` slot alone could be set by a forged action-server call.
                reference = verified_reference(
                    session,
                    sender_hash,
                    dt.datetime.now(dt.UTC),
                    settings.subscribe_verified_within_s,
                )
                if reference:
                    subscribe(session, tracker.sender_id, reference)
        except Exception:
            logger.exception("subscribe_failed", extra={"event": "subscribe_failed"})
            dispatcher.utter_message(
                text=t("reply.subscribe_unavailable", lang),
                json_message={"type": "status_unavailable"},
            )
            return []
        if not reference:
            minutes = max(1, settings.subscribe_verified_within_s // 60)
            dispatcher.utter_message(
                text=t("reply.subscribe_verify_first", lang, minutes=minutes),
                json_message={"type": "status_prompt", "need": "reference"},
            )
            return []
        dispatcher.utter_message(
            text=t("reply.subscribed", lang, reference=reference),
            json_message={"type": "subscription", "state": "subscribed", "reference": reference},
        )
        log_event("subscribed", tracker)
        return []


class ActionUnsubscribeCase(CitizenAction):
    """Remove all of the sender's case notifications in one message."""

    def name(self) -> str:
        return "action_unsubscribe_case"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        try:
            with session_scope(get_sessionmaker()) as session:
                removed = unsubscribe_all(session, tracker.sender_id)
        except Exception:
            logger.exception("unsubscribe_failed", extra={"event": "unsubscribe_failed"})
            dispatcher.utter_message(
                text=t("reply.unsubscribe_unavailable", lang),
                json_message={"type": "status_unavailable"},
            )
            return []
        text = t("reply.unsubscribed_cases" if removed else "reply.not_subscribed_cases", lang)
        dispatcher.utter_message(
            text=text,
            json_message={"type": "subscription", "state": "unsubscribed", "count": removed},
        )
        log_event("unsubscribed", tracker, count=removed)
        return []
