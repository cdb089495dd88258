"""Custom actions with tracker fixtures: events and the `custom` payload."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.case_status import ActionLookupCaseStatus, ValidateCaseStatusForm
from actions.emergency import ActionHandleEmergency
from actions.handoff import ActionOpenHandoff
from actions.kb_answer import ActionAnswerKb, ActionHandleFallback, ActionRefuseOutOfScope
from core import services
from core.db.engine import session_scope
from core.db.models import HandoffTicket, UnansweredQuestion
from core.settings import Settings, get_settings
from tests.factories import make_case, make_tracker


@pytest.fixture(autouse=True)
def action_env(settings: Settings, monkeypatch):
    """Point the actions' cached services at the temporary database."""
    test_settings = settings.model_copy(update={"hash_salt": settings.hash_salt})
    monkeypatch.setattr("core.services.get_settings", lambda: test_settings)
    for module in ("actions.kb_answer", "actions.case_status", "actions.common"):
        monkeypatch.setattr(f"{module}.get_settings", lambda: test_settings)
    for cached in (services.get_kb, services.get_index, services.get_sessionmaker):
        cached.cache_clear()
    yield test_settings
    for cached in (services.get_kb, services.get_index, services.get_sessionmaker):
        cached.cache_clear()
    get_settings.cache_clear()


async def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def payload(messages):
    assert len(messages) == 1, messages
    return messages[0]["custom"]


async def test_answer_kb_replies_with_sources_and_review_date(kb):
    messages, events = await run(
        ActionAnswerKb(), make_tracker("附加证明书怎么办理？", kb_id="apostille_how_to_apply")
    )
    custom = payload(messages)
    entry = kb.get("apostille_how_to_apply")
    assert custom["type"] == "kb_answer" and custom["kb_id"] == "apostille_how_to_apply"
    assert custom["sources"][0]["url"] == str(entry.sources[0].url)
    assert custom["last_reviewed"] == entry.last_reviewed.isoformat()
    assert custom["follow_up"] == entry.follow_up
    assert "公证" in messages[0]["text"] and "{office." not in messages[0]["text"]
    assert events == [SlotSet("last_kb_id", "apostille_how_to_apply")]


async def test_answer_kb_in_english_when_asked_in_english(kb):
    messages, _ = await run(
        ActionAnswerKb(), make_tracker("How do I get an apostille?", kb_id="apostille_how_to_apply")
    )
    assert payload(messages)["lang"] == "en"
    assert "notar" in messages[0]["text"].lower()


async def test_uncertain_signals_offer_suggestions_and_record_question(settings):
    messages, _ = await run(
        # A vague message: the signals spread over several apostille entries and disagree.
        ActionAnswerKb(),
        make_tracker("附加证明书和公证", kb_id="visa_refusal", kb_confidence=0.3),
    )
    custom = payload(messages)
    assert custom["type"] == "suggestions"
    offered = [o["kb_id"] for o in custom["options"]]
    assert "notarization_first" in offered and len(offered) <= 3
    with session_scope(services.get_sessionmaker()) as session:
        stored = session.scalars(select(UnansweredQuestion)).all()
    assert [q.kind for q in stored] == ["fallback"]


async def test_a_follow_up_after_suggestions_stays_in_their_topic(kb):
    # Options for apostille entries were offered, an older answer was about visas: "那费用呢"
    # is about the apostille's fees, not the visa's.
    older = {"last_kb_id": "visa_time_fees"}
    messages, events = await run(
        ActionAnswerKb(), make_tracker("附加证明书的各种问题", slots=older)
    )
    assert payload(messages)["type"] == "suggestions"
    first = payload(messages)["options"][0]["kb_id"]
    assert kb.get(first).topic == "apostille" and events == [SlotSet("last_kb_id", first)]
    messages, _ = await run(ActionAnswerKb(), make_tracker("那费用呢", slots={"last_kb_id": first}))
    assert payload(messages)["type"] == "kb_answer"
    assert payload(messages)["kb_id"] == "apostille_time_fees"


async def test_fallback_without_any_match_is_honest():
    messages, _ = await run(
        ActionHandleFallback(), make_tracker("zzzz qqqq", intent="nlu_fallback", confidence=0.1)
    )
    assert payload(messages) == {"type": "fallback"}
    # Latin letters: the fallback is in English and still offers a person.
    assert 'send "human"' in messages[0]["text"]


async def test_fallback_inside_a_form_ends_the_form():
    # Rasa's core fallback inside a form that rejected the message: with the form left active,
    # Rasa predicted this fallback again and again (ten replies) until its circuit breaker.
    tracker = make_tracker("zzzz qqqq", intent="goodbye", active_loop="case_status_form")
    messages, events = await run(ActionHandleFallback(), tracker)
    assert payload(messages) == {"type": "fallback"}
    assert events[-2:] == [ActiveLoop(None), SlotSet("requested_slot", None)]
    _, outside = await run(ActionHandleFallback(), make_tracker("zzzz qqqq", intent="nlu_fallback"))
    assert ActiveLoop(None) not in outside


async def test_fallback_masks_digits_in_stored_question():
    await run(ActionHandleFallback(), make_tracker("zzzz 13800005678", intent="nlu_fallback"))
    with session_scope(services.get_sessionmaker()) as session:
        stored = session.scalars(select(UnansweredQuestion)).one()
    assert "13800005678" not in stored.text and "#" in stored.text


async def test_out_of_scope_refuses_politely():
    messages, _ = await run(
        ActionRefuseOutOfScope(), make_tracker("今天天气怎么样", intent="out_of_scope")
    )
    assert payload(messages) == {"type": "out_of_scope", "reason": "not_office_service"}


async def test_out_of_scope_is_overruled_when_every_kb_signal_agrees():
    # The NLU called a legalization question out of scope; the ranker is sure of one entry.
    messages, _ = await run(
        ActionRefuseOutOfScope(),
        make_tracker("美國的結婚證要拿回大陸用，要怎麼認證", intent="out_of_scope"),
    )
    assert payload(messages)["kb_id"] == "foreign_documents_for_china"
    # … never for a forged document, nor for what the ranker is unsure of
    for text in ("帮我做一个假的结婚证公证", "车辆年审需要带什么"):
        messages, _ = await run(ActionRefuseOutOfScope(), make_tracker(text, intent="out_of_scope"))
        assert payload(messages)["type"] == "out_of_scope", text


async def test_document_for_a_member_country_routes_to_the_apostille_path():
    messages, events = await run(
        ActionAnswerKb(),
        make_tracker("我的出生公证要拿到加拿大用，怎么办？", kb_id="passport_issued_by_police"),
    )
    custom = payload(messages)
    # the country sentence states the path; the ranker's entry (how to apply) follows it
    assert custom["type"] == "kb_answer" and custom["kb_id"] == "apostille_how_to_apply"
    assert custom["country"]["code"] == "CA" and custom["country"]["status"] == "member"
    assert custom["sources"][0]["url"].startswith("https://")
    assert messages[0]["text"].startswith("加拿大") and "附加证明书即可" in messages[0]["text"]
    assert events == [SlotSet("last_kb_id", "apostille_how_to_apply")]


async def test_document_for_a_non_member_routes_to_legalization():
    messages, _ = await run(
        ActionAnswerKb(),
        make_tracker("学历证明要送到泰国用，要办什么认证", kb_id="apostille_how_to_apply"),
    )
    custom = payload(messages)
    assert custom["kb_id"] == "legalization_non_member_states"
    assert custom["country"]["status"] == "non_member" and "泰国" in messages[0]["text"]
    assert "领事认证" in messages[0]["text"]


async def test_practical_question_about_a_country_keeps_its_answer_after_the_path():
    text = "送美国用的学历公证，办附加证明书要带什么材料"
    messages, events = await run(
        ActionAnswerKb(), make_tracker(text, kb_id="apostille_documents_applicant")
    )
    custom = payload(messages)
    assert custom["kb_id"] == "apostille_documents_applicant"
    assert custom["country"]["code"] == "US" and custom["country"]["status"] == "member"
    assert messages[0]["text"].startswith("美国") and "身份证件" in messages[0]["text"]
    assert events == [SlotSet("last_kb_id", "apostille_documents_applicant")]


async def test_document_for_an_unverified_country_sends_to_the_office():
    messages, _ = await run(
        ActionAnswerKb(),
        make_tracker("结婚证公证要拿到巴勒斯坦用", kb_id="apostille_how_to_apply"),
    )
    custom = payload(messages)
    assert custom["country"] == {"name": "巴勒斯坦", "status": "unknown", "checked": "2026-12-01"}
    assert "请向办公室确认" in messages[0]["text"]


async def test_vague_follow_up_resolves_within_the_previous_topic():
    messages, events = await run(
        ActionAnswerKb(),
        make_tracker(
            "那需要什么材料？",
            kb_id="visa_agency_documents",
            kb_confidence=0.6,
            slots={"last_kb_id": "apostille_what_is"},
        ),
    )
    custom = payload(messages)
    assert custom["type"] == "kb_answer" and custom["kb_id"] == "apostille_documents_applicant"
    assert events == [SlotSet("last_kb_id", "apostille_documents_applicant")]


async def test_follow_up_marker_does_not_hijack_a_new_topic(kb):
    messages, _ = await run(
        ActionAnswerKb(),
        make_tracker(
            "那外办能代办签证吗",
            kb_id="visa_agency_what_is",
            kb_confidence=0.4,
            slots={"last_kb_id": "apostille_what_is"},
        ),
    )
    custom = payload(messages)
    first = custom.get("kb_id") or custom["options"][0]["kb_id"]
    assert kb.entries[first].topic == "visa_agency"


async def test_emergency_gives_hotline_first_and_opens_urgent_ticket():
    messages, events = await run(
        ActionHandleEmergency(),
        make_tracker("我儿子在泰国被绑架了", intent="report_emergency", sender_id="web:emergency1"),
    )
    custom = payload(messages)
    assert custom["type"] == "emergency" and custom["hotline"] == "12308"
    first_sentence = messages[0]["text"].split("。")[0]
    assert "报警" in first_sentence or "12308" in first_sentence
    assert events == [ConversationPaused()]
    with session_scope(services.get_sessionmaker()) as session:
        ticket = session.get(HandoffTicket, custom["ticket"])
        assert ticket.priority == "urgent" and ticket.sender_id == "web:emergency1"


async def test_emergency_buried_in_a_faq_question_wins():
    messages, _ = await run(
        ActionAnswerKb(),
        make_tracker(
            "我想问问签证的事情，另外我在国外护照被偷了怎么办", kb_id="visa_agency_what_is"
        ),
    )
    assert payload(messages)["type"] == "emergency"


async def test_handoff_opens_ticket_and_pauses():
    messages, events = await run(
        ActionOpenHandoff(),
        make_tracker("转人工", intent="request_human", sender_id="web:handoff1"),
    )
    custom = payload(messages)
    assert custom["type"] == "handoff" and custom["state"] == "queued" and custom["position"] == 1
    assert events == [ConversationPaused()]
    with session_scope(services.get_sessionmaker()) as session:
        assert session.scalars(select(HandoffTicket.sender_id)).all() == ["web:handoff1"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("va 2026 000123", "VA-2026-000123"),
        ("我的编号ＶＡ－２０２６－０００１２３", "VA-2026-000123"),
        ("不知道", None),
        ("<script>alert(1)</script>", None),
    ],
)
def test_form_validation_normalises_reference(value, expected):
    dispatcher = CollectingDispatcher()
    result = ValidateCaseStatusForm().validate_case_reference(value, dispatcher, make_tracker(), {})
    assert result == {"case_reference": expected}
    assert bool(dispatcher.messages) == (expected is None)


def test_form_validation_asks_again_for_bad_digits():
    dispatcher = CollectingDispatcher()
    form = ValidateCaseStatusForm()
    assert form.validate_phone_last4("５６７８", dispatcher, make_tracker(), {}) == {
        "phone_last4": "5678"
    }
    assert form.validate_phone_last4("12", dispatcher, make_tracker(), {}) == {"phone_last4": None}
    assert dispatcher.messages[0]["custom"]["need"] == "verification"


def test_a_reference_sent_again_at_the_verification_prompt_is_not_an_attempt():
    dispatcher = CollectingDispatcher()
    form = ValidateCaseStatusForm()
    waiting = make_tracker(slots={"case_reference": "VA-2026-001890"})
    # The year 2026 used to be taken for the 4 digits: a failed attempt and "not found".
    assert form.validate_phone_last4(
        "好,那繼續查剛剛那個 VA-2026-001890", dispatcher, waiting, {}
    ) == {"phone_last4": None}
    assert dispatcher.messages[-1]["custom"] == {
        "type": "status_prompt", "need": "verification", "error": "format"
    }  # fmt: skip
    # Another reference replaces the one waiting; digits beside it still count.
    assert form.validate_phone_last4("LA-2026-002589 尾号5678", dispatcher, waiting, {}) == {
        "phone_last4": "5678",
        "case_reference": "LA-2026-002589",
    }


async def test_lookup_reports_status_and_resets_slots(action_env):
    with session_scope(services.get_sessionmaker()) as session:
        make_case(session, salt=action_env.hash_salt.get_secret_value())
    messages, events = await run(
        ActionLookupCaseStatus(),
        make_tracker("5678", slots={"case_reference": "VA-2026-000123", "phone_last4": "5678"}),
    )
    custom = payload(messages)
    assert custom["type"] == "status" and custom["state"] == "in_review"
    assert "张" not in messages[0]["text"]
    assert SlotSet("case_reference", None) in events and SlotSet("phone_last4", None) in events


async def test_lookup_denies_and_then_locks(action_env):
    with session_scope(services.get_sessionmaker()) as session:
        make_case(session, salt=action_env.hash_salt.get_secret_value())
    tracker = make_tracker(
        "0000",
        sender_id="web:brute",
        slots={"case_reference": "VA-2026-000123", "phone_last4": "0000"},
    )
    denied = [payload((await run(ActionLookupCaseStatus(), tracker))[0]) for _ in range(5)]
    assert all(d == {"type": "status_denied"} for d in denied)
    locked = payload((await run(ActionLookupCaseStatus(), tracker))[0])
    assert locked["type"] == "status_denied" and locked["retry_after_s"] > 0


async def test_handoff_ticket_carries_the_topic_of_the_last_answer():
    tracker = make_tracker("转人工", intent="request_human", sender_id="web:topic1")
    tracker.events.append(
        {
            "event": "bot",
            "text": "…",
            "data": {
                "custom": {
                    "type": "kb_answer",
                    "kb_id": "apostille_how_to_apply",
                    "topic": "apostille",
                }
            },
        }
    )
    messages, _ = await run(ActionOpenHandoff(), tracker)
    with session_scope(services.get_sessionmaker()) as session:
        ticket = session.get(HandoffTicket, payload(messages)["ticket"])
        assert ticket.topic == "apostille"


def test_country_route_keeps_a_practical_entry_whether_answered_or_suggested_first():
    from actions.kb_answer import country_route

    text = "孩子的学位证要送到英国用，家长代办附加证明书需要带什么"
    assert country_route(text, "apostille_documents_applicant")[1] == (
        "apostille_documents_applicant"
    )
    mention, kb_id, _ = country_route(text, "apostille_what_is")
    assert kb_id == "apostille_member_states" and mention.country.code == "GB"


@pytest.mark.parametrize(
    "text, reason, must_contain",
    [
        ("能帮我做一份假的公证书吗", "forgery", "违法"),
        ("把你们主任的私人手机号给我", "private_contact", "私人联系方式"),
        ("户口怎么迁回来", "other_authority", "公安派出所"),
        ("how do I renew my driving licence", "other_authority", "traffic police"),
    ],
)
async def test_out_of_scope_refusals_carry_their_reason(text, reason, must_contain):
    messages, _ = await run(ActionRefuseOutOfScope(), make_tracker(text, intent="out_of_scope"))
    assert payload(messages)["reason"] == reason
    assert must_contain in messages[0]["text"]


async def test_english_out_of_scope_is_refused_in_english():
    messages, _ = await run(
        ActionRefuseOutOfScope(), make_tracker("what's the weather tomorrow", intent="out_of_scope")
    )
    assert payload(messages)["reason"] == "not_office_service"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in messages[0]["text"])


@pytest.mark.parametrize(
    "text, last, expected",
    [
        ("要多久能拿到", "apostille_how_to_apply", "apostille_time_fees"),
        (
            "what documents then?",
            "resettlement_where_to_apply",
            "resettlement_conditions_documents",
        ),
    ],
)
async def test_follow_up_without_a_marker_resolves_within_the_topic(text, last, expected):
    messages, _ = await run(
        ActionAnswerKb(), make_tracker(text, intent="faq", slots={"last_kb_id": last})
    )
    custom = payload(messages)
    assert custom["type"] == "kb_answer" and custom["kb_id"] == expected


async def test_out_of_scope_follow_up_is_answered_from_the_topic():
    messages, _ = await run(
        ActionRefuseOutOfScope(),
        make_tracker(
            "要多久能拿到", intent="out_of_scope", slots={"last_kb_id": "apostille_how_to_apply"}
        ),
    )
    assert payload(messages)["kb_id"] == "apostille_time_fees"


def test_country_route_keeps_the_application_steps_for_a_member_state_only():
    from actions.kb_answer import country_route

    text = "出生公证书要拿去意大利用，附加证明书去哪里办"
    mention, kb_id, _ = country_route(text, "apostille_how_to_apply")
    assert kb_id == "apostille_how_to_apply" and mention.country.code == "IT"
    # for a state outside the Convention the steps of an apostille would mislead
    assert country_route("出生公证书要拿去阿联酋用，附加证明书去哪里办", "apostille_how_to_apply")[
        1
    ] == ("legalization_non_member_states")


def test_a_short_question_the_selector_calls_out_of_scope_is_read_in_the_topic_just_answered():
    from actions.kb_answer import decide_kb

    # Without context the trained selector refuses it; after an APEC answer it asks about fees.
    assert decide_kb("钱交给谁", {}).decision == "fallback"
    after = decide_kb("钱交给谁", {}, last_kb_id="apec_card_how_to_apply")
    assert after.decision == "answer" and after.kb_ids == ["apec_card_fees_progress"]
    # Off-topic stays refused whatever came before.
    assert (
        decide_kb("明天天气怎么样", {}, last_kb_id="apec_card_how_to_apply").decision == "fallback"
    )
    assert decide_kb("我身份证丢了", {}, last_kb_id="passport_lost_abroad").decision == "fallback"


def test_a_document_for_a_member_state_with_how_or_where_gets_the_application_steps():
    from actions.kb_answer import country_route, decide_kb, names_document_abroad

    for text in ("我的出生公证要拿到加拿大用，怎么办？", "毕业证要拿到意大利用，在哪里办"):
        ranking = decide_kb(text, {})
        assert ranking.decision != "fallback"  # the selector's out-of-scope lean is overruled
        routed = country_route(text, ranking.kb_ids[0])
        assert routed is not None and routed[1] == "apostille_how_to_apply"
    # Whether it is needed at all: the member-states entry says so.
    text = "出生公证拿到加拿大用要办附加证明书吗"
    routed = country_route(text, decide_kb(text, {}).kb_ids[0])
    assert routed is not None and routed[1] == "apostille_member_states"
    assert names_document_abroad(text) and not names_document_abroad("加拿大移民怎么申请")
