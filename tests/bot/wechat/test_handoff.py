"""Handoff round trip from the staff console to a WeChat user: while the ticket is open the
citizen's WeChat messages go to staff, the console's claim notice and reply reach WeChat as
customer-service messages through the outbox, closing hands the conversation back to the bot;
a reply that cannot reach WeChat is noted on the ticket for staff."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from bot.wechat import store
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import HandoffMessage, HandoffTicket, Outbox
from core.handoff import ratings
from core.handoff.tickets import request_handoff
from tests.api.console_helpers import RasaWithApi, add_user, form_csrf, login
from tests.bot.wechat.conftest import (
    OPENID,
    make_channel,
    reply_text,
    start_bot,
    text_xml,
    wait_until,
)

SENDER = f"wx:{OPENID}"


def wx_rows(sessions) -> list[Outbox]:
    with session_scope(sessions) as session:
        return list(session.scalars(select(Outbox).where(Outbox.channel == "wx")))


def open_ticket(sessions) -> int:
    with session_scope(sessions) as session:
        return request_handoff(session, SENDER, "citizen_request").ticket


async def test_console_reply_reaches_the_wechat_user_and_closing_resumes_the_bot(
    wx_settings, kb, sessions, wechat
):
    rasa = RasaWithApi()
    bot = await start_bot(make_channel(wx_settings, rasa, kb, sessions))
    relay = Relay(rasa.client(), sessions, wx_settings.max_message_chars)
    console = TestClient(create_app(wx_settings, relay=relay), raise_server_exceptions=False)
    try:
        ticket_id = open_ticket(sessions)
        # While the ticket is open, the citizen's WeChat message goes to staff, not to Rasa.
        in_ticket = reply_text(await bot.post(text_xml("我的护照在国外丢了，需要补办")))
        assert f"#{ticket_id}" in in_ticket and rasa.received == []

        with console:
            add_user(sessions, "agent1", "agent")
            assert login(console, "agent1").status_code == 303
            page = console.get(f"/console/tickets/{ticket_id}")
            assert "我的护照在国外丢了" in page.text and "微信" in page.text
            token = form_csrf(page.text)
            console.post(f"/console/tickets/{ticket_id}/claim", data={"csrf_token": token})
            console.post(
                f"/console/tickets/{ticket_id}/reply",
                data={"csrf_token": token, "text": "您好，请提供护照号码和所在国家。"},
            )
        reply = f"👤 工作人员回复（工单 #{ticket_id}）：\n您好，请提供护照号码和所在国家。"
        await wait_until(lambda: reply in wechat.texts_to(OPENID))
        assert {m["touser"] for m in wechat.sent()} == {OPENID}
        await wait_until(lambda: all(r.sent_at for r in wx_rows(sessions)))
        assert {"system", "staff_reply"} <= {r.kind for r in wx_rows(sessions)}

        with console:
            assert login(console, "agent1").status_code == 303
            token = form_csrf(console.get(f"/console/tickets/{ticket_id}").text)
            closed = console.post(f"/console/tickets/{ticket_id}/close", data={"csrf_token": token})
            assert closed.status_code == 200
        assert (SENDER, [{"event": "resume"}]) in rasa.appended
        with session_scope(sessions) as session:
            assert session.get(HandoffTicket, ticket_id).state == "closed"
        await wait_until(lambda: len(wechat.texts_to(OPENID)) >= 3)
        assert any("人工服务已结束" in t for t in wechat.texts_to(OPENID))

        # The closed ticket's 1–5 question is answered with a bare digit.
        await wait_until(lambda: any("1–5" in t for t in wechat.texts_to(OPENID)))
        assert reply_text(await bot.post(text_xml("5"))) == "感谢您的评价！"
        with session_scope(sessions) as session:
            assert ratings.ticket_rating(session, ticket_id) == 5

        # After closing, the bot answers again.
        answer = reply_text(await bot.post(text_xml("附加证明书怎么办理？")))
        assert answer.startswith("答复：附加证明书怎么办理？")
        assert rasa.received[-1]["sender"] == SENDER
    finally:
        await bot.stop()


async def test_a_reply_outside_the_window_is_noted_on_the_ticket_for_staff(
    wx_settings, rasa, kb, sessions, wechat
):
    with session_scope(sessions) as session:
        store.record_inbound(session, SENDER, dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    ticket_id = open_ticket(sessions)
    with session_scope(sessions) as session:
        session.add(
            Outbox(
                channel="wx",
                sender_id=SENDER,
                kind="staff_reply",
                text="三天后的回复",
                payload={"type": "staff_reply", "ticket": ticket_id},
                ticket_id=ticket_id,
            )
        )
    channel = make_channel(wx_settings, rasa, kb, sessions)
    await channel.background.deliverer.deliver_once()
    await channel.client.aclose()
    with session_scope(sessions) as session:
        notes = session.scalars(
            select(HandoffMessage.text).where(HandoffMessage.author == "note")
        ).all()
    assert len(notes) == 1 and "未送达" in notes[0] and "48小时" in notes[0]
    assert wechat.sent() == []
