"""Answers from the knowledge base, did-you-mean suggestions, fallback and out-of-scope."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CitizenAction, Domain, Events
from actions.common import log_event, message_text, record_unanswered
from core import encoder
from core.conversation import replies
from core.conversation.refusals import authority_for, firm_reason
from core.kb import countries
from core.kb.aspects import asked_aspect, covers
from core.kb.countries import CountryTable, Mention, get_matcher
from core.kb.loader import KnowledgeBase
from core.kb.ranker import Ranking, Thresholds, fused_scores, is_latin, rank
from core.services import get_dense_index, get_index, get_kb
from core.settings import get_settings
from core.text import normalize
from core.texts import t as text_of

logger = logging.getLogger(__name__)


def selector_ranking(parse: dict[str, Any]) -> list[tuple[str, float]]:
    """(kb_id, confidence) pairs ranked by the ResponseSelector for the `faq` intent.

    `parse` is Rasa's NLU result (`tracker.latest_message` or `/model/parse`).
    """
    selector = (parse.get("response_selector") or {}).get("faq") or {}
    ranking = selector.get("ranking") or [selector.get("response") or {}]
    out = []
    for item in ranking:
        _, _, kb_id = str(item.get("intent_response_key") or "").partition("/")
        if kb_id:
            out.append((kb_id, float(item.get("confidence") or 0.0)))
    return out


def dense_scores(text: str, hint: object = None) -> dict[str, float] | None:
    """Cosine similarity of the text to each entry's questions; None when disabled/unavailable."""
    index = get_dense_index()
    return index.scores(text, hint) if index is not None else None


def passage_scores(text: str, hint: object = None) -> dict[str, float] | None:
    """Cosine similarity of the text to each entry's answer; None when unavailable."""
    index = get_dense_index()
    return index.passage_scores(text, hint) if index is not None else None


def trained_selector(text: str, hint: object = None) -> tuple[list[tuple[str, float]], float]:
    """The action server's selector (core.kb.selector): ranking and out-of-scope probability."""
    index = get_dense_index()
    return index.selector_ranking(text, hint) if index is not None else ([], 0.0)


def negative_score(text: str, hint: object = None) -> float | None:
    """Cosine similarity to the nearest out-of-scope example; None when unavailable."""
    index = get_dense_index()
    return index.negative_score(text, hint) if index is not None else None


# Above this out-of-scope probability a short message is not read as a follow-up (tune split).
CONTEXT_OUT_OF_SCOPE_CAP = 0.9


def thresholds() -> Thresholds:
    settings = get_settings()
    return Thresholds(answer=settings.kb_answer_threshold, suggest=settings.kb_suggest_threshold)


def decide_kb(text: str, parse: dict[str, Any], last_kb_id: str | None = None) -> Ranking:
    """The answer / suggestions / fallback decision for a message and its NLU parse.

    `last_kb_id` is the entry answered just before: a vague follow-up ("那需要什么材料？")
    resolves among that entry's topic and follow-ups. Pure apart from the cached KB and
    indexes, so `make eval` replays it on cached parses.
    """
    kb = get_kb()
    selector = [(k, c) for k, c in selector_ranking(parse) if k in kb.entries]
    index = get_index()
    bm25 = index.search(text, limit=10)
    exact = index.exact(text)
    # A verbatim KB question (e.g. a suggestion button) is answered without the costly encoder.
    hint = parse.get(encoder.KEY)  # Rasa's vector of this message (core.encoder)
    dense = dense_scores(text, hint) if exact is None else None
    negative = negative_score(text, hint) if exact is None else None
    passage = passage_scores(text, hint) if exact is None else None
    t = thresholds()
    out_of_scope = 0.0
    if not selector and exact is None:  # no ResponseSelector in the pipeline: the trained one
        selector, out_of_scope = trained_selector(text, hint)
        # (the country lookup only where the bar would refuse: not on every message)
        if out_of_scope >= t.selector_out_of_scope and names_document_abroad(text):
            # The out-of-scope examples name countries (their immigration, their visas), so the
            # selector leans out of scope on "出生公证要拿到加拿大用": the country table says the
            # question is the KB's.
            out_of_scope = 0.0
    ranking = rank(
        selector,
        bm25,
        t,
        exact=exact,
        dense=dense,
        negative=negative,
        passage=passage,
        out_of_scope=out_of_scope,
        latin=is_latin(text),
    )
    if exact is None and last_kb_id in kb.entries:
        aspect = asked_aspect(text)
        if aspect is not None:
            fused_all = fused_scores(
                dict(selector), {h.kb_id: h.score for h in bm25}, dense or {}, t, passage or {}
            )
            resolved = _entry_for_aspect(kb, last_kb_id, aspect, fused_all)
            if resolved is not None:
                return Ranking("answer", [resolved], round(fused_all.get(resolved, 0.0), 4))
    # The trained selector knows questions without context: a short one it calls out of scope
    # right after an answer ("钱交给谁" 0.48, "可以让我爸去帮我交吗" 0.74) is read within that
    # answer's topic, unless it is sure (weather, jokes, ID cards, medical insurance: 0.96-1.0).
    leans_on_context = (
        t.selector_out_of_scope <= out_of_scope < CONTEXT_OUT_OF_SCOPE_CAP
        and ranking.decision == "fallback"
        and is_short(text)
    )
    if exact is None and last_kb_id in kb.entries and (is_follow_up(text) or leans_on_context):
        last = kb.entries[last_kb_id]
        allowed = {k for k, e in kb.entries.items() if e.topic == last.topic} | set(last.follow_up)
        # the entry just answered stays a candidate: "what documents then?" after an entry that lists
        # them is answered by it again rather than by a sibling that mentions documents less
        fused = fused_scores(
            {k: c for k, c in selector if k in allowed},
            {h.kb_id: h.score for h in bm25 if h.kb_id in allowed},
            {k: v for k, v in (dense or {}).items() if k in allowed},
            t,
            {k: v for k, v in (passage or {}).items() if k in allowed},
        )
        if fused:
            best = max(fused, key=lambda k: (fused[k], k))
            # Within one topic a weaker signal is enough (the context narrowed the choice),
            # unless the message clearly points elsewhere ("那外办能代办签证吗").
            if fused[best] >= t.suggest / 4 and fused[best] >= ranking.score / 2:
                return Ranking("answer", [best], round(fused[best], 4))
    return ranking


def _entry_for_aspect(
    kb: KnowledgeBase, last_kb_id: str, aspect: str, fused: dict[str, float]
) -> str | None:
    """The entry of the current topic whose title covers the aspect a bare follow-up asks about
    ("那费用呢" after the APEC card → its fee entry): the entry just answered if it covers it, else
    the best-scored such entry of its topic, else of the entries it names as follow-ups, else of
    their topics (after "要先公证吗", the apostille entries it links to carry the fees)."""
    last = kb.entries[last_kb_id]
    linked = [k for k in last.follow_up if k in kb.entries]
    linked_topics = {kb.entries[k].topic for k in linked}
    tiers = [
        [k for k, e in kb.entries.items() if e.topic == last.topic],
        linked,
        [k for k, e in kb.entries.items() if e.topic in linked_topics],
    ]
    for tier in tiers:
        found = [k for k in tier if covers(kb.entries[k].title, kb.entries[k].title_en, aspect)]
        if last_kb_id in found:
            return last_kb_id
        if found:
            return max(found, key=lambda k: (fused.get(k, 0.0), k))
    return None


_FOLLOW_UP_RE = re.compile(
    r"^(那|那么|那请问|请问那|这个|那个|这样|它|还|还要|还需要|另外|然后|那我|and\b|what about|then\b|so\b|"
    r"how about|what if)"
)


# A short question about one aspect of "it" — time, cost, documents, where, who, in person — leans
# on the previous answer even without "那…" ("要多久能拿到", "在哪申请呢", "what documents then?").
_ASPECT_RE = re.compile(
    r"多久|几天|多长时间|多少钱|费用|收费|材料|资料|证件|在哪|去哪|哪里|哪儿|本人|亲自|代办|网上|"
    r"要不要|需不需要|能不能|可不可以|可以吗|得吗|得唔得|得不得|呢$|边度|喺边|几耐|几多|几时|\bhow long\b|\bhow much\b|\bcost|\bfees?\b|"
    r"\bprice\b|\bdocuments?\b|\bpapers\b|\bwhere\b|\bwho\b|in person|\bonline\b|\bthen\??$|"
    r"\bdo i (need|have)\b|\bcan i\b"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
# "另外问下，…" / "换个问题" / "another question": the citizen announces a new topic.
_SWITCH_RE = re.compile(
    r"^(另外|还有|顺便|再)(问|想问|请问|咨询)|换个(问题|话题)|另一个问题|"
    r"^(another|a different|one more|unrelated) question|^(also|by the way),? (i want to|can i) ask"
)


def is_short(text: str) -> bool:
    """At most 16 Chinese characters or 9 words: the length of a question that leans on context."""
    plain = normalize(text).strip().lower()
    return len(plain) <= 16 if _CJK.search(plain) else len(plain.split()) <= 9


def is_follow_up(text: str) -> bool:
    """A short question that leans on the previous answer ("那需要什么材料？", "and how long?",
    "要多久能拿到")."""
    plain = normalize(text).strip().lower()
    if _SWITCH_RE.search(plain):
        return False
    short = is_short(plain)
    if _FOLLOW_UP_RE.search(plain):
        return len(plain) <= 20 or short
    return short and bool(_ASPECT_RE.search(plain))


# Practical questions (what to bring, who may apply, time and fees, a rejected document) keep the
# entry the ranker answered with, or put first among its suggestions: the country sentence already
# states the path, and replacing the entry by the path entry would leave the question unanswered.
PRACTICAL_ENTRIES = frozenset(
    {
        "apostille_documents_applicant",
        "apostille_time_fees",
        "legalization_agency_service",
        "document_rejected_abroad",
    }
)


HOW_TO_APPLY = "apostille_how_to_apply"
# "…要拿到加拿大用，怎么办？": the steps are asked for, whichever entry the ranker put first.
_ASKS_STEPS_RE = re.compile(
    r"怎么办|怎么弄|怎么做|怎样办|如何办|要怎么|什么手续|哪些手续|办理流程|点样办|点办|在哪(里|儿)?(办|申请|弄)|去哪(里|儿)?(办|申请)|"
    r"\bwhat steps\b|\bwhat (do|should) (i|we) do\b|\bhow (do|can|should) (i|we) (get|apply|do)\b|"
    r"\bwhere do (i|we) (go|apply)\b"
)


def names_document_abroad(text: str) -> bool:
    """The message names a country in kb/countries.yml and asks about using a document abroad."""
    matcher = get_matcher(get_settings().kb_dir / "countries.yml")
    return (
        matcher is not None and matcher.find(text) is not None and countries.wants_path(text, None)
    )


def country_route(text: str, kb_id: str | None) -> tuple[Mention, str, CountryTable] | None:
    """(country mention, KB id to answer with, the country table) when the question uses a
    document in a named country.

    The KB id is the country's path entry, or `kb_id` itself when it is a practical entry the
    ranker answered with or suggested first.
    """
    matcher = get_matcher(get_settings().kb_dir / "countries.yml")
    if matcher is None:
        return None
    mention = matcher.find(text)
    if mention is None or not countries.wants_path(text, kb_id):
        return None
    if kb_id in PRACTICAL_ENTRIES:
        return mention, kb_id, matcher.table
    path = countries.path_entry(mention)
    asks_steps = _ASKS_STEPS_RE.search(normalize(text).lower()) is not None
    if (kb_id == HOW_TO_APPLY or asks_steps) and path == countries.PATH_ENTRY["member"]:
        # "…apostilled for use in Italy. Where do we go?": for a member state the steps of the
        # application answer it; the list of member states would not
        return mention, HOW_TO_APPLY, matcher.table
    return mention, path, matcher.table


def kb_reply(kb: KnowledgeBase, kb_id: str, lang: str) -> tuple[str, dict[str, Any]]:
    """An entry's answer body (direct answer, then steps) and its `kb_answer` payload.

    The policy (or 待核实) note and the office contact are not repeated in the body: the payload
    carries them as `footer`, one short line every channel shows under the answer.
    """
    _, payload = replies.kb_answer(kb, kb_id, lang)
    payload["footer"] = kb.footer(kb_id, payload["lang"])
    if kb.office.website_url is not None:
        payload["footer_url"] = str(kb.office.website_url)
    return kb.answer(kb_id, payload["lang"]), payload


def answer_or_suggest(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    parse: dict[str, Any],
    lang: str,
    ranking: Ranking | None = None,
) -> Events:
    """Answer when the signals agree or one is confident, else suggest, else fall back.
    `ranking`: decide_kb's result for this message when the caller already has it."""
    kb = get_kb()
    text = message_text(tracker)
    if ranking is None:
        ranking = decide_kb(text, parse, tracker.get_slot("last_kb_id"))
    selector = selector_ranking(parse)
    confidence = round(selector[0][1], 3) if selector else None
    routed = country_route(text, ranking.kb_ids[0] if ranking.kb_ids else None)
    if routed is not None:
        mention, kb_id, table = routed
        reply, payload = kb_reply(kb, kb_id, lang)
        contact = kb.office.contact_for(payload["lang"])
        first = countries.sentence(mention, table, contact, payload["lang"])
        payload["country"] = countries.payload(mention, table)
        if mention.country is not None:
            source = table.sources[mention.country.source]
            payload["sources"] = [{"title": source.title, "url": source.url}, *payload["sources"]]
        dispatcher.utter_message(text=first + "\n\n" + reply, json_message=payload)
        log_event("kb_answer", tracker, kb_id=kb_id, confidence=confidence, country=True)
        return [SlotSet("last_kb_id", kb_id)]
    if ranking.decision == "answer":
        reply, payload = kb_reply(kb, ranking.kb_ids[0], lang)
        dispatcher.utter_message(text=reply, json_message=payload)
        log_event("kb_answer", tracker, kb_id=ranking.kb_ids[0], confidence=confidence)
        return [SlotSet("last_kb_id", ranking.kb_ids[0])]
    if ranking.decision == "suggest":
        reply, payload = replies.suggestions(kb, ranking.kb_ids, lang)
        dispatcher.utter_message(text=reply, json_message=payload)
        log_event("suggestions", tracker, kb_id=ranking.kb_ids[0], confidence=confidence)
        # The options set the topic: a follow-up to them ("那费用呢" after three apostille
        # entries were offered) resolves within the first option's topic, not an older answer's.
        events: Events = [SlotSet("last_kb_id", ranking.kb_ids[0])]
    else:
        dispatcher.utter_message(
            text=text_of("reply.fallback", lang), json_message={"type": "fallback"}
        )
        log_event("fallback", tracker, confidence=confidence)
        events = []
    record_unanswered(tracker, "fallback")
    return events


_warmed = threading.Event()


def _warm_up() -> None:
    """Load the KB, BM25 and dense indexes (embedding the KB on a cold cache takes 10-35 s)."""
    try:
        get_dense_index()
        get_index()
    except Exception:  # the first question will retry and report properly
        logger.exception("kb_warm_up_failed", extra={"event": "kb_warm_up_failed"})


class ActionAnswerKb(CitizenAction):
    """Reply with the KB entry the ResponseSelector chose, loaded from kb/ at run time."""

    def __init__(self) -> None:
        # The action server builds each action once at start: warm the indexes in the
        # background so the first citizen does not wait for the KB embeddings.
        if not _warmed.is_set():
            _warmed.set()
            threading.Thread(target=_warm_up, name="kb-warm-up", daemon=True).start()

    def name(self) -> str:
        return "action_answer_kb"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        return answer_or_suggest(dispatcher, tracker, tracker.latest_message or {}, lang)


class ActionHandleFallback(CitizenAction):
    """Low NLU confidence: emergency check, then suggestions or an honest fallback."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        events = answer_or_suggest(dispatcher, tracker, {}, lang)
        if tracker.active_loop_name:
            # Rasa's core fallback inside a form that rejected the message: with the form still
            # active, the next prediction is this fallback again, ten times in a row, until
            # Rasa's circuit breaker stops it (ten replies to one message). The lookup ends here;
            # the citizen can start it again with the reference.
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


def refusal(text: str, english: bool) -> tuple[str, dict[str, Any]]:
    """The refusal text and payload: firm for forgery/bribes/private contacts, naming the right
    authority for other authorities' business, else the general out-of-scope reply."""
    reason = firm_reason(text)
    authority = authority_for(text) if reason is None else None
    if authority is not None:
        reason = "other_authority"
    lang = "en" if english else "zh"
    template = replies.refusal_template(reason, lang)
    if template is None:
        text_out = text_of("reply.out_of_scope", lang)
        return text_out, {"type": "out_of_scope", "reason": reason or "not_office_service"}
    contact = ""
    if "{contact}" in template:
        contact = get_kb().office.short_contact(lang)
    text_out = template.format(
        contact=contact,
        authority=(authority.en if english else authority.zh) if authority else "",
    )
    payload: dict[str, Any] = {"type": "out_of_scope", "reason": reason}
    if authority is not None:
        payload["authority"] = authority.key
    return text_out, payload


class ActionRefuseOutOfScope(CitizenAction):
    """Politely refuse what the office does not handle, offering a human."""

    def name(self) -> str:
        return "action_refuse_out_of_scope"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain, lang: str
    ) -> Events:
        text = message_text(tracker)
        last = tracker.get_slot("last_kb_id")
        # Never a KB answer for forgery, bribes or private contacts. Otherwise the NLU is
        # overruled (one ranking, shared with the answer) when the question leans on the last
        # answer ("冇內地戶口都得嗎" after an answer on schooling is about that answer, not hukou),
        # or when every KB signal points at one entry and no other authority is named
        # ("美國的結婚證要拿回大陸用，要怎麼認證", read as out of scope by the NLU).
        if firm_reason(text) is None:
            ranking = decide_kb(text, {}, last)
            if ranking.decision == "answer" and (
                (last and is_follow_up(text))
                or (
                    authority_for(text) is None
                    and ranking.score >= thresholds().overrule_out_of_scope
                )
            ):
                return answer_or_suggest(dispatcher, tracker, {}, lang, ranking)
        reply, payload = refusal(text, lang == "en")
        dispatcher.utter_message(text=reply, json_message=payload)
        log_event("out_of_scope", tracker, reason=payload["reason"])
        record_unanswered(tracker, "out_of_scope")
        return []
