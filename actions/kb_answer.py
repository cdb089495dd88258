"""Answers from the knowledge base, did-you-mean suggestions, fallback and out-of-scope."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import log_event, message_text, record_unanswered
from actions.emergency import respond_emergency
from core import replies
from core.emergency import detect
from core.kb.ranker import Thresholds, rank
from core.services import get_index, get_kb
from core.settings import get_settings


def selector_ranking(tracker: Tracker) -> list[tuple[str, float]]:
    """(kb_id, confidence) pairs ranked by the ResponseSelector for the `faq` intent."""
    selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    ranking = selector.get("ranking") or [selector.get("response") or {}]
    out = []
    for item in ranking:
        _, _, kb_id = str(item.get("intent_response_key") or "").partition("/")
        if kb_id:
            out.append((kb_id, float(item.get("confidence") or 0.0)))
    return out


def answer_or_suggest(
    dispatcher: CollectingDispatcher, tracker: Tracker, selector: list[tuple[str, float]]
) -> list[dict[str, Any]]:
    """Answer when the signals agree or one is confident, else suggest, else fall back."""
    settings = get_settings()
    kb = get_kb()
    text = message_text(tracker)
    metadata = tracker.latest_message.get("metadata") or {}
    lang = "en" if metadata.get("lang") == "en" or replies.looks_english(text) else "zh"
    selector = [(k, c) for k, c in selector if k in kb.entries]
    thresholds = Thresholds(
        selector_answer=settings.kb_answer_threshold, suggest=settings.kb_suggest_threshold
    )
    index = get_index()
    ranking = rank(selector, index.search(text, limit=3), thresholds, exact=index.exact(text))
    confidence = round(selector[0][1], 3) if selector else None
    if ranking.decision == "answer":
        reply, payload = replies.kb_answer(kb, ranking.kb_ids[0], lang)
        dispatcher.utter_message(text=reply, json_message=payload)
        log_event("kb_answer", tracker, kb_id=ranking.kb_ids[0], confidence=confidence)
        return []
    if ranking.decision == "suggest":
        reply, payload = replies.suggestions(kb, ranking.kb_ids)
        dispatcher.utter_message(text=reply, json_message=payload)
        log_event("suggestions", tracker, kb_id=ranking.kb_ids[0], confidence=confidence)
    else:
        dispatcher.utter_message(text=replies.FALLBACK_ZH, json_message={"type": "fallback"})
        log_event("fallback", tracker, confidence=confidence)
    record_unanswered(tracker, "fallback")
    return []


class ActionAnswerKb(Action):
    """Reply with the KB entry the ResponseSelector chose, loaded from kb/ at run time."""

    def name(self) -> str:
        return "action_answer_kb"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        emergency = detect(message_text(tracker))
        if emergency is not None:
            return respond_emergency(dispatcher, tracker, emergency)
        return answer_or_suggest(dispatcher, tracker, selector_ranking(tracker))


class ActionHandleFallback(Action):
    """Low NLU confidence: emergency check, then suggestions or an honest fallback."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        emergency = detect(message_text(tracker))
        if emergency is not None:
            return respond_emergency(dispatcher, tracker, emergency)
        return answer_or_suggest(dispatcher, tracker, [])


class ActionRefuseOutOfScope(Action):
    """Politely refuse what the office does not handle, offering a human."""

    def name(self) -> str:
        return "action_refuse_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        emergency = detect(message_text(tracker))
        if emergency is not None:
            return respond_emergency(dispatcher, tracker, emergency)
        dispatcher.utter_message(
            text=replies.OUT_OF_SCOPE_ZH,
            json_message={"type": "out_of_scope", "reason": "not_office_service"},
        )
        log_event("out_of_scope", tracker)
        record_unanswered(tracker, "out_of_scope")
        return []
