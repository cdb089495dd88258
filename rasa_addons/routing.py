"""Routing rules applied after intent classification, on every path into Rasa.

DIET is a statistical classifier; a few decisions must not depend on it (issue 16):
1. an emergency (keyword rules of core.conversation.emergency, or the semantic check the app's
   relay ran and passed as `metadata.route`) → `report_emergency`;
2. a request to forge or buy documents, to bribe, for an official's private contact, or a prompt
   injection (core.conversation.refusals) → `out_of_scope`;
   an explicit request for a person → `request_human`;
   asking the office to do another authority's business ("外办能帮我换身份证吗") → `out_of_scope`;
3. a case reference anywhere in the message → `ask_case_status` with the canonical reference
   as the `case_reference` entity (spaces, lower case, full-width digits all normalised);
   progress wording about one's own application ("我的认证办好了没") → `ask_case_status`;
4. four digits or a receipt query code on their own → `inform` (the answer to the verification
   prompt);
5. a short request to stop notifications ("取消通知") → `unsubscribe_case`; a short "never mind"
   → `cancel`; a short goodbye ("That's all for now, have a good day.") → `goodbye`;
6. the office's opening hours, address or phone → `faq`;
   a request unrelated to any public service (homework, a poem, a joke) → `out_of_scope`;
7. a bare opener ("老师好 请教个问题", "hi, I have a question") → `greet`.
Not trainable: the rules live in core.conversation.routing and change without retraining.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from core.conversation.emergency import CLEAR_KEY, detect
from core.conversation.refusals import firm_reason, off_topic_request, other_authority_request
from core.conversation.routing import (
    asks_office_facts,
    find_reference,
    is_bare_code,
    is_farewell,
    is_opener,
    is_thanks,
    wants_cancel,
    wants_human,
    wants_status,
    wants_unsubscribe,
)
from rasa_addons.components import AddonComponent
from rasa_addons.normalizer import BLANK

ROUTES = {"report_emergency", "request_human", "ask_case_status"}


def _too_little_to_alarm(text: str) -> bool:
    """Markup, code or emoji with hardly a word in it: DIET's guess of an emergency is noise."""
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    words = [w for w in text.split() if sum(c.isalpha() for c in w) >= 2]
    return cjk < 2 and len(words) < 4


def _unconfirmed(text: str, message: Message) -> bool:
    """DIET's `report_emergency` is not to be trusted alone: for markup or emoji, and when the
    relay's check (keywords and the semantic check) found no sign of an emergency at all.

    On the blind set's tune split (2026-12-04) DIET's emergencies that the check did not confirm
    were 8 false alarms ("算了,不查了,我明天直接去窗口问", a football score, keyboard mash) and one
    true emergency, which the check weakly supported; that one still stands."""
    if _too_little_to_alarm(text):
        return True
    return bool((message.get("metadata") or {}).get(CLEAR_KEY))


def route_for(text: str, metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """The intent the rules impose on the message, or None to keep the classifier's."""
    route = (metadata or {}).get("route")
    if route == "report_emergency" or detect(text) is not None:
        return "report_emergency"
    if route in ROUTES:
        return str(route)
    if firm_reason(text) is not None:
        return "out_of_scope"  # forged documents, bribes, private numbers: never a KB answer
    if wants_human(text):
        return "request_human"
    if other_authority_request(text) is not None:
        return "out_of_scope"  # "外办能帮我换身份证吗": named as the other authority's business
    if wants_unsubscribe(text):
        return "unsubscribe_case"  # "取消通知": before cancel, which "取消" alone would be
    if wants_cancel(text):
        return "cancel"  # "算了，不用查了" (anchored: a cancel message holds nothing else)
    if is_farewell(text):
        return "goodbye"  # "That's all for now, have a good day." (anchored, like cancel)
    if is_thanks(text):
        return "thank"  # "Thank you, that's really helpful." (anchored)
    if find_reference(text) is not None or wants_status(text):
        return "ask_case_status"
    if asks_office_facts(text):
        return "faq"  # opening hours, address, phone: the office_contact entry
    if off_topic_request(text):
        return "out_of_scope"  # homework, poems, jokes: nothing the office does
    if is_bare_code(text):
        return "inform"  # the four digits the verification prompt asked for
    if is_opener(text):
        return "greet"  # "老师好 请教个问题": a greeting that asks nothing yet
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RouteOverride(AddonComponent):
    """Overrides the predicted intent (and the reference entity) per core.conversation.routing."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or text.startswith("/"):
                continue
            if message.get(BLANK):
                route: Optional[str] = "nlu_fallback"  # nothing to read: "please type …"
            else:
                route = route_for(text, message.get("metadata"))
            predicted = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if route is None and predicted == "report_emergency" and _unconfirmed(text, message):
                route = "nlu_fallback"  # neither the rules nor the relay saw an emergency
            if route is None:
                continue
            intent = {INTENT_NAME_KEY: route, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [
                r
                for r in (message.get(INTENT_RANKING_KEY) or [])
                if r.get(INTENT_NAME_KEY) != route
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
            reference = find_reference(text) if route == "ask_case_status" else None
            if reference is not None:
                others = [
                    e
                    for e in (message.get(ENTITIES) or [])
                    if e.get(ENTITY_ATTRIBUTE_TYPE) != "case_reference"
                ]
                entity = {
                    ENTITY_ATTRIBUTE_TYPE: "case_reference",
                    ENTITY_ATTRIBUTE_VALUE: reference.canonical,
                    ENTITY_ATTRIBUTE_START: 0,
                    ENTITY_ATTRIBUTE_END: len(text),
                    EXTRACTOR: "RouteOverride",
                }
                message.set(ENTITIES, [*others, entity], add_to_output=True)
        return messages
