"""Handoff tickets and routing — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from core.db.models import HandoffTicket
from core.handoff import store
from core.handoff.ratings import request_rating
from core.handoff.tickets import park_message, request_handoff, route_to_open_ticket
from core.notify.outbox import channel_of
from core.notify.preferences import set_lang


def test_request_handoff_opens_one_ticket_per_sender(db_session):
    first = request_handoff(db_session, "web:abc12345", "citizen_request")
    again = request_handoff(db_session, "web:abc12345", "citizen_request")
    assert first.ticket == again.ticket
    assert first.payload() == {
        "type": "handoff",
        "ticket": first.ticket,
        "state": "queued",
        "position": 1,
    }
    ticket = db_session.get(HandoffTicket, first.ticket)
    assert ticket.channel == "web" and ticket.state == "queued"


def test_urgent_tickets_queue_before_normal_ones(db_session):
    normal = request_handoff(db_session, "tg:1", "citizen_request")
    urgent = request_handoff(db_session, "tg:2", "emergency:danger", priority="urgent")
    assert urgent.position == 1
    refreshed = store.queue_position(db_session, db_session.get(HandoffTicket, normal.ticket))
    assert refreshed == 2


def test_messages_go_to_the_open_ticket_until_it_is_closed(db_session):
    assert route_to_open_ticket(db_session, "web:abc12345", "hello") is None
    info = request_handoff(db_session, "web:abc12345", "citizen_request")
    routed = route_to_open_ticket(db_session, "web:abc12345", "我的问题是……")
    assert routed is not None and routed.ticket == info.ticket
    ticket = db_session.get(HandoffTicket, info.ticket)
    assert [m.text for m in ticket.messages] == ["我的问题是……"]
    store.close_ticket(db_session, ticket, dt.datetime.now(dt.UTC))
    assert route_to_open_ticket(db_session, "web:abc12345", "again") is None


def test_parked_message_is_kept_for_staff(db_session):
    info = park_message(db_session, "tg:42", "附加证明书怎么办？")
    ticket = db_session.get(HandoffTicket, info.ticket)
    assert ticket.reason == "bot_unavailable"
    assert [(m.author, m.text) for m in ticket.messages] == [("citizen", "附加证明书怎么办？")]


def test_channel_of_sender_prefix():
    assert channel_of("tg:123") == "tg"
    assert channel_of("web:abc") == "web"
    assert channel_of("some-rest-client") == "rest"


def test_the_rating_question_follows_the_senders_language(db_session):
    now = dt.datetime.now(dt.UTC)
    asked = {}
    for sender, lang in (("tg:71", "en"), ("tg:72", "zh-Hant"), ("tg:73", None)):
        if lang is not None:
            set_lang(db_session, sender, lang, now)
        ticket = db_session.get(HandoffTicket, request_handoff(db_session, sender, "x").ticket)
        store.close_ticket(db_session, ticket, now)
        asked[lang] = request_rating(db_session, ticket).text
    assert asked["en"].startswith("Please rate our staff service")
    # Traditional script is converted when the channel renders; the catalogue text is simplified.
    assert asked["zh-Hant"] == asked[None] and asked[None].startswith("请为本次人工服务评分")
