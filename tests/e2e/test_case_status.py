"""Status lookups over Rasa's REST webhook for every case kind, subscriptions and lockout."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from core.cases.demo import DEMO_CASES
from core.cases.sync import EventIn, add_case_event
from core.db.engine import build_engine, session_factory, session_scope
from core.db.models import Outbox

pytestmark = pytest.mark.e2e


def last(payloads):
    assert payloads, "no payload"
    return payloads[-1]


@pytest.mark.parametrize("reference, kind, state, name, last4", DEMO_CASES)
def test_each_case_kind_is_looked_up_after_verification(convo, reference, kind, state, name, last4):
    prompt = last(convo.payloads(f"我想查一下{reference.lower().replace('-', ' ')}的进度"))
    assert prompt == {"type": "status_prompt", "need": "verification"}
    replies = convo.say(last4)
    status = last([m["custom"] for m in replies if "custom" in m])
    assert status["type"] == "status"
    assert (status["reference"], status["kind"], status["state"]) == (reference, kind, state)
    text = " ".join(m.get("text", "") for m in replies)
    assert (
        name not in text and name[0] + "*" not in text and last4 not in text.replace(reference, "")
    )


def test_query_code_verifies_too(convo):
    assert last(convo.payloads("check my application"))["need"] == "reference"
    assert last(convo.payloads("VA-2026-000123"))["need"] == "verification"
    assert last(convo.payloads("qw123456"))["type"] == "status"


def test_subscription_gets_notified_through_the_outbox(convo, database_url):
    convo.say("查询进度 IN-2026-000321")
    assert last(convo.payloads("1357"))["type"] == "status"
    subscribed = last(convo.payloads("有进展通知我"))
    assert subscribed == {
        "type": "subscription",
        "state": "subscribed",
        "reference": "IN-2026-000321",
    }
    sessions = session_factory(build_engine(database_url))
    with session_scope(sessions) as session:
        import datetime as dt

        add_case_event(
            session,
            "IN-2026-000321",
            EventIn(event_id=f"e2e-{convo.sender}", state="completed"),
            dt.datetime.now(dt.UTC),
        )
    with session_scope(sessions) as session:
        rows = session.scalars(select(Outbox).where(Outbox.sender_id == convo.sender)).all()
    assert [(r.kind, r.payload["state"]) for r in rows] == [("notification", "completed")]
    assert last(convo.payloads("取消通知")) == {
        "type": "subscription",
        "state": "unsubscribed",
        "count": 1,
    }


def test_subscribing_without_verification_asks_for_a_lookup_first(convo):
    assert last(convo.payloads("有进展通知我"))["type"] == "status_prompt"


def test_brute_force_hits_the_lockout_with_one_message_for_all_failures(convo):
    outcomes = []
    for attempt in range(6):
        convo.say("查询进度")
        convo.say("RS-2026-999999")  # unknown: locks the same way, demo cases stay usable
        outcomes.append(last(convo.payloads(f"{1000 + attempt}")))
    assert outcomes[:5] == [{"type": "status_denied"}] * 5
    assert outcomes[5]["type"] == "status_denied" and outcomes[5]["retry_after_s"] > 0


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "'; DROP TABLE cases; --", "😀😀😀"])
def test_bad_references_are_asked_again_politely(convo, text):
    convo.say("查询进度")
    reply = last(convo.payloads(text))
    assert reply["type"] in {"status_prompt", "status_cancelled"}


def test_an_overlong_reference_is_refused_before_nlu(convo):
    convo.say("查询进度")
    with pytest.raises(httpx.HTTPStatusError) as refused:
        convo.say("号" * 3000)
    assert refused.value.response.status_code == 413  # MAX_MESSAGE_CHARS, in the input channel
