"""Answers from the knowledge base, did-you-mean suggestions, fallback and out-of-scope."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import log_event, message_text, record_unanswered
from actions.emergency import respond_emergency
from core import replies
from core.emergency import detect
from core.services import get_index, get_kb
from core.settings import get_settings


def _selected_kb_id(tracker: Tracker) -> tuple[str | None, float]:
    """KB id and confidence predicted by the ResponseSelector for the `faq` intent."""
    selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    response = selector.get("response") or {}
    key = str(response.get("intent_response_key") or "")
    confidence = float(response.get("confidence") or 0.0)
    _, _, kb_id = key.partition("/")
    return (kb_id or None), confidence


def answer_or_suggest(dispatcher: CollectingDispatcher, tracker: Tracker,
                      kb_id: str | None, confidence: float) -> list[dict[str, Any]]:
    """Answer when confident, else offer BM25 suggestions, else the honest fallback."""
    settings = get_settings()
    kb = get_kb()
    text = message_text(tracker)
    lang = "en" if replies.looks_english(text) else "zh"
    intent_conf = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
    if kb_id in kb.entries and min(confidence, intent_conf or 1.0) >= settings.kb_answer_threshold:
        reply, payload = replies.kb_answer(kb, kb_id, lang)
        dispatcher.utter_message(text=reply, json_message=payload)
        log_event("kb_answer", tracker, kb_id=kb_id, confidence=round(confidence, 3))
        return []
    hits = [h for h in get_index().search(text, limit=3) if h.score >= settings.kb_suggest_threshold]
    if kb_id in kb.entries and confidence >= settings.kb_suggest_threshold:
        hits_ids = [kb_id] + [h.kb_id for h in hits if h.kb_id != kb_id]
    else:
        hits_ids = [h.kb_id for h in hits]
    if hits_ids:
        reply, payload = replies.suggestions(kb, hits_ids[:3])
        dispatcher.utter_message(text=reply, json_message=payload)
        log_event("suggestions", tracker, kb_id=hits_ids[0], confidence=round(confidence, 3))
    else:
        dispatcher.utter_message(text=replies.FALLBACK_ZH, json_message={"type": "fallback"})
        log_event("fallback", tracker, confidence=round(confidence, 3))
    record_unanswered(tracker, "fallback")
    return []


class ActionAnswerKb(Action):
    """Reply with the KB entry the ResponseSelector chose, loaded from kb/ at run time."""

    def name(self) -> str:
        return "action_answer_kb"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        emergency = detect(message_text(tracker))
        if emergency is not None:
            return respond_emergency(dispatcher, tracker, emergency)
        kb_id, confidence = _selected_kb_id(tracker)
        return answer_or_suggest(dispatcher, tracker, kb_id, confidence)


class ActionHandleFallback(Action):
    """Low NLU confidence: emergency check, then suggestions or an honest fallback."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        emergency = detect(message_text(tracker))
        if emergency is not None:
            return respond_emergency(dispatcher, tracker, emergency)
        return answer_or_suggest(dispatcher, tracker, None, 0.0)


class ActionRefuseOutOfScope(Action):
    """Politely refuse what the office does not handle, offering a human."""

    def name(self) -> str:
        return "action_refuse_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        emergency = detect(message_text(tracker))
        if emergency is not None:
            return respond_emergency(dispatcher, tracker, emergency)
        dispatcher.utter_message(text=replies.OUT_OF_SCOPE_ZH,
                                 json_message={"type": "out_of_scope", "reason": "not_office_service"})
        log_event("out_of_scope", tracker)
        record_unanswered(tracker, "out_of_scope")
        return []
