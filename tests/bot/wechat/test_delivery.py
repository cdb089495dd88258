"""WeChat delivery: the shared access_token (refresh on 40001, before expiry, one fetch for all
processes), back-off on 45009 and network errors, outbox rows exactly once across a restart,
the 48-hour window with the template fallback, and rows never lost silently."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from sqlalchemy import select

from bot.wechat import store
from bot.wechat.client import Transient, WeChatClient
from core.db.engine import session_scope
from core.db.models import Outbox
from core.notify import outbox
from core.notify.background import TransientFailure
from tests.bot.wechat.conftest import (
    OPENID,
    MutableClock,
    make_channel,
    start_bot,
    text_xml,
    wait_until,
)

SENDER = f"wx:{OPENID}"


def enqueue(sessions, text: str, kind: str = "staff_reply", sender: str = SENDER, **extra) -> int:
    with session_scope(sessions) as session:
        return outbox.enqueue(
            session,
            channel=sender.split(":", 1)[0],
            sender_id=sender,
            kind=kind,
            text=text,
            **extra,
        ).id


def rows(sessions) -> list[Outbox]:
    with session_scope(sessions) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def wrote_recently(sessions, sender: str = SENDER, when: dt.datetime | None = None) -> None:
    with session_scope(sessions) as session:
        store.record_inbound(session, sender, when or dt.datetime.now(dt.UTC))


def client(wechat, sessions, **kwargs) -> WeChatClient:
    return WeChatClient("wxapp", "secret", sessions, api_base=wechat.base, **kwargs)


# --- access_token -------------------------------------------------------------------------


async def test_token_is_fetched_once_and_shared_by_every_process(wechat, sessions):
    first, second = client(wechat, sessions), client(wechat, sessions)
    try:
        await asyncio.gather(
            first.send_text(OPENID, "一"),
            second.send_text(OPENID, "二"),
            first.send_text(OPENID, "三"),
        )
    finally:
        await first.aclose()
        await second.aclose()
    assert len(wechat.token_fetches) == 1
    assert wechat.token_fetches[0] == {
        "grant_type": "client_credential",
        "appid": "wxapp",
        "secret": "secret",
        "force_refresh": False,
    }
    assert sorted(wechat.texts_to(OPENID)) == ["一", "三", "二"]


async def test_rejected_token_40001_is_refreshed_once_and_the_call_repeated(wechat, sessions):
    api = client(wechat, sessions)
    try:
        await api.send_text(OPENID, "第一条")
        wechat.expire_tokens()  # e.g. someone fetched a token elsewhere with the same secret
        await api.send_text(OPENID, "第二条")
    finally:
        await api.aclose()
    assert wechat.texts_to(OPENID) == ["第一条", "第二条"]
    assert len(wechat.token_fetches) == 2 and wechat.token_fetches[1]["force_refresh"] is True
    assert wechat.attempts.count("message/custom/send") == 3  # one refused with 40001


async def test_token_is_refreshed_before_it_expires(wechat, sessions):
    clock = MutableClock(dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC))
    api = client(wechat, sessions, clock=clock)
    try:
        await api.send_text(OPENID, "a")
        clock.advance(seconds=7200 - 600)  # 10 minutes left: still used
        await api.send_text(OPENID, "b")
        clock.advance(seconds=400)  # under 5 minutes left: refreshed first
        await api.send_text(OPENID, "c")
    finally:
        await api.aclose()
    assert len(wechat.token_fetches) == 2 and len(wechat.sent()) == 3


async def test_rate_limit_and_network_errors_are_transient(wechat, sessions):
    api = client(wechat, sessions)
    wechat.fail("message/custom/send", 45009)
    try:
        with pytest.raises(Transient) as limited:
            await api.send_text(OPENID, "x")
        assert limited.value.retry_after == 60.0
    finally:
        await api.aclose()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("unreachable", request=request)

    offline = WeChatClient(
        "wxapp", "secret", sessions, api_base="http://wechat.test",
        http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)),
    )  # fmt: skip
    with pytest.raises(Transient):
        await offline.send_text(OPENID, "x")
    await offline.aclose()


# --- outbox -------------------------------------------------------------------------------


async def test_outbox_rows_are_delivered_exactly_once_across_a_restart(
    wx_settings, rasa, kb, sessions, wechat
):
    wrote_recently(sessions)
    enqueue(sessions, "第一条回复", payload={"ticket": 3})
    enqueue(sessions, "第二条回复", payload={"ticket": 3})
    enqueue(sessions, "网页渠道的消息", sender="web:abc")  # another channel's row: never sent here
    first = await start_bot(make_channel(wx_settings, rasa, kb, sessions))
    try:
        await wait_until(lambda: len(wechat.texts_to(OPENID)) == 2)
        await wait_until(lambda: all(r.sent_at for r in rows(sessions) if r.channel == "wx"))
    finally:
        await first.stop()
    enqueue(sessions, "您的申请已办结。", kind="notification", payload={"type": "status"})
    second = await start_bot(make_channel(wx_settings, rasa, kb, sessions))
    try:
        await wait_until(lambda: len(wechat.texts_to(OPENID)) == 3)
        await asyncio.sleep(0.3)  # several more rounds: nothing is sent again
    finally:
        await second.stop()
    assert wechat.texts_to(OPENID) == [
        "👤 工作人员回复（工单 #3）：\n第一条回复",
        "👤 工作人员回复（工单 #3）：\n第二条回复",
        "🔔 📋 办理进度\n您的申请已办结。\n\n如需人工帮助，请回复“转人工”。",
    ]
    assert [r.sent_at is None for r in rows(sessions)] == [False, False, True, False]


async def test_rate_limited_round_backs_off_without_using_the_rows_attempts(
    wx_settings, rasa, kb, sessions, wechat
):
    wrote_recently(sessions)
    row_id = enqueue(sessions, "稍后送达")
    channel = make_channel(wx_settings, rasa, kb, sessions)
    wechat.fail("message/custom/send", 45009)
    with pytest.raises(TransientFailure):
        await channel.background.deliverer.deliver_once()
    pause = await channel.background.run_once()
    assert pause >= 0.05  # backed off
    await channel.client.aclose()
    row = next(r for r in rows(sessions) if r.id == row_id)
    assert row.sent_at is not None and row.attempts == 1  # the refused try was refunded


async def test_outside_the_48_hour_window_a_template_is_sent_and_the_row_waits_for_the_citizen(
    wx_settings, rasa, kb, sessions, wechat
):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)
    wrote_recently(sessions, when=old)
    settings = wx_settings.model_copy(
        update={
            "wechat_template_id": "TPL-1",
            "wechat_template_fields": {"thing1": "title", "thing2": "summary", "time3": "time"},
        }
    )
    row_id = enqueue(sessions, "您好，材料已收到，请下周一来取证。", payload={"ticket": 9})
    bot = await start_bot(make_channel(settings, rasa, kb, sessions))
    try:
        await wechat.wait_for("message/template/send")
        await wait_until(lambda: rows(sessions)[0].last_error is not None)
        template = wechat.sent("message/template/send")[0]
        assert template["touser"] == OPENID and template["template_id"] == "TPL-1"
        assert template["data"]["thing1"]["value"] == "工作人员已回复您的咨询"
        assert len(template["data"]["thing2"]["value"]) <= 20
        assert wechat.sent() == []  # no customer-service message outside the window
        with session_scope(sessions) as session:
            held = store.undelivered(session, SENDER)
            assert [(r.id, r.last_error) for r in held] == [
                (row_id, "wx_window_closed; template sent")
            ]
        # The citizen writes again: the window reopens and the full reply is delivered.
        await bot.post(text_xml("我看到通知了"))
        await wechat.wait_for(count=1)
        assert (
            wechat.texts_to(OPENID)[0]
            == "👤 工作人员回复（工单 #9）：\n您好，材料已收到，请下周一来取证。"
        )
        await wait_until(lambda: rows(sessions)[0].sent_at is not None)
        await asyncio.sleep(0.2)
        assert len(wechat.sent("message/template/send")) == 1
    finally:
        await bot.stop()


async def test_without_a_template_the_row_is_marked_undelivered_for_staff(
    wx_settings, rasa, kb, sessions, wechat
):
    enqueue(sessions, "您好")  # the citizen never wrote (e.g. only clicked the menu)
    tip = enqueue(sessions, "【侨法早知道】…", kind="tip", payload={"type": "tip"})
    channel = make_channel(wx_settings, rasa, kb, sessions)
    await channel.background.deliverer.deliver_once()
    await channel.client.aclose()
    assert wechat.attempts == []
    with session_scope(sessions) as session:
        held = store.undelivered(session)
        assert [r.last_error for r in held] == ["wx_window_closed", "wx_window_closed"]
        assert all(r.attempts >= wx_settings.wechat_outbox_max_attempts for r in held)
        released = store.record_inbound(session, SENDER, dt.datetime.now(dt.UTC))
    assert released == 1  # the staff reply comes back into the queue; the stale tip does not
    assert [r.id for r in rows(sessions) if r.attempts == 0] != [tip]


async def test_window_closed_reported_by_wechat_holds_the_row(
    wx_settings, rasa, kb, sessions, wechat
):
    wrote_recently(sessions)
    wechat.closed_windows.add(OPENID)  # e.g. the five-message quota of the window is used up
    enqueue(sessions, "第六条回复")
    channel = make_channel(wx_settings, rasa, kb, sessions)
    await channel.background.deliverer.deliver_once()
    await channel.client.aclose()
    assert rows(sessions)[0].last_error == "wx_window_closed" and rows(sessions)[0].sent_at is None


async def test_unfollowed_or_invalid_users_are_not_retried(wx_settings, rasa, kb, sessions, wechat):
    wrote_recently(sessions)
    wrote_recently(sessions, sender="wx:oOther")
    wechat.fail("message/custom/send", 43004)
    enqueue(sessions, "给已取关的用户")
    enqueue(sessions, "给另一位", sender="wx:oOther")
    channel = make_channel(wx_settings, rasa, kb, sessions)
    await channel.background.deliverer.deliver_once()
    await channel.background.deliverer.deliver_once()
    await channel.client.aclose()
    first, second = rows(sessions)
    assert first.last_error == "wx_43004" and first.attempts >= 10 and first.sent_at is None
    assert second.sent_at is not None and wechat.texts_to("oOther") == [
        "👤 工作人员回复：\n给另一位"
    ]
