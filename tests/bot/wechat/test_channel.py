"""The WeChat channel end to end against the fakes: text through the relay, the five-second
rule with a slow bot, MsgId retries, events, menu clicks, numbered options, other message types."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from core.db.engine import session_scope
from core.db.models import Outbox, Subscription, WechatMessage, WechatUser
from core.notify import preferences, tips
from tests.bot.wechat.conftest import (
    OPENID,
    event_xml,
    make_channel,
    message_xml,
    reply_text,
    start_bot,
    text_xml,
)


async def test_text_goes_through_the_relay_and_is_answered_passively(running, rasa):
    response = await running.post(text_xml("附加证明书怎么办理？"))
    text = reply_text(response)
    assert text.startswith("答复：附加证明书怎么办理？")
    assert '<a href="https://cs.mfa.gov.cn/">中国领事服务网</a>' in text
    assert "1. 办认证前要先公证吗？" in text
    assert [(m["sender"], m["message"]) for m in rasa.received] == [
        (f"wx:{OPENID}", "附加证明书怎么办理？")
    ]


async def test_a_digit_answers_the_last_numbered_options(running, rasa, kb):
    await running.post(text_xml("附加证明书怎么办理？"))
    notarization = kb.entries["notarization_first"].title
    text = reply_text(await running.post(text_xml("１")))  # a full-width digit too
    assert rasa.received[-1]["message"] == notarization
    assert text.startswith(f"答复：{notarization}")
    reply_text(await running.post(text_xml("9")))  # not on the list: an ordinary message
    assert rasa.received[-1]["message"] == "9"


async def test_retries_of_one_msgid_make_one_rasa_turn_and_the_same_answer(running, rasa):
    xml = text_xml("什么是华侨？", msg_id=42)
    answers = [reply_text(await running.post(xml)) for _ in range(3)]
    assert len(rasa.received) == 1
    assert answers[0] == answers[1] == answers[2] and answers[0].startswith("答复：什么是华侨？")


async def test_concurrent_deliveries_of_one_msgid_reach_rasa_once(running, rasa):
    xml = text_xml("同时到达", msg_id=43)
    responses = await asyncio.gather(*(running.post(xml) for _ in range(3)))
    assert len(rasa.received) == 1
    assert sum(reply_text(r) is not None for r in responses) >= 1


async def test_one_users_messages_reach_rasa_in_arrival_order(running, rasa):
    rasa.delays["第一个问题"] = 0.3  # without ordering, the second would overtake it
    first = asyncio.create_task(running.post(text_xml("第一个问题")))
    await asyncio.sleep(0.02)
    second = asyncio.create_task(running.post(text_xml("第二个问题")))
    await asyncio.gather(first, second)
    assert [m["message"] for m in rasa.received] == ["第一个问题", "第二个问题"]


async def test_slow_bot_gets_an_acknowledgement_then_the_answer_as_customer_service_message(
    wx_settings, rasa, kb, sessions, wechat
):
    rasa.delay_s = 0.6
    settings = wx_settings.model_copy(update={"wechat_reply_deadline_s": 0.2})
    bot = await start_bot(make_channel(settings, rasa, kb, sessions))
    try:
        xml = text_xml("慢一点的问题", msg_id=77)
        first = reply_text(await bot.post(xml))
        assert "正在为您查询" in first
        retry = await bot.post(xml)  # WeChat's retry while the bot is still thinking
        assert retry.text == "success"
        sent = await wechat.wait_for(count=1)
        assert sent[0]["touser"] == OPENID
        assert sent[0]["text"]["content"].startswith("答复：慢一点的问题")
        assert reply_text(await bot.post(xml)) is None  # a late retry: still nothing new
        await asyncio.sleep(0.3)
        assert len(wechat.sent()) == 1 and len(rasa.received) == 1
    finally:
        await bot.stop()


async def test_long_answer_first_part_passive_rest_through_the_outbox(running, rasa, wechat):
    long = "。".join(["这是很长的答复的一句话"] * 200) + "。"
    rasa.say("长答复", long, {"type": "kb_answer", "kb_id": "x", "sources": []})
    text = reply_text(await running.post(text_xml("长答复")))
    assert len(text.encode()) <= 2000
    rest = await wechat.wait_for(count=3)
    await asyncio.sleep(0.2)
    rest = wechat.sent()
    assert all(len(m["text"]["content"].encode()) <= 2000 for m in rest)
    assert (text + "".join(m["text"]["content"] for m in rest)).count(
        "这是很长的答复的一句话"
    ) == 200


async def test_subscribe_welcomes_with_the_menu_topics_and_a_privacy_line(running, sessions):
    text = reply_text(await running.post(event_xml("subscribe")))
    assert "欢迎关注" in text and "【政策咨询】" in text and "因私签证代办" in text
    assert "隐私" in text
    with session_scope(sessions) as session:
        assert session.get(WechatUser, f"wx:{OPENID}").following is True


async def test_subscribe_through_a_qr_code_and_scan_are_welcomed(running):
    assert "欢迎关注" in reply_text(await running.post(event_xml("subscribe", key="qrscene_12")))
    assert "欢迎回来" in reply_text(await running.post(event_xml("SCAN", key="12")))


async def test_unsubscribe_stops_tips_case_notifications_and_pending_rows(running, sessions):
    sender = f"wx:{OPENID}"
    await running.post(text_xml("订阅侨法"))
    with session_scope(sessions) as session:
        assert tips.is_subscribed(session, sender)
        session.add(Outbox(channel="wx", sender_id=sender, kind="notification", text="x"))
    response = await running.post(event_xml("unsubscribe"))
    assert response.text == "success"
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count(Subscription.id))) == 0
        row = session.scalar(select(Outbox).where(Outbox.kind == "notification"))
        assert row.sent_at is None and row.last_error == "wx_unfollowed" and row.attempts >= 10
        assert session.get(WechatUser, sender).following is False


async def test_menu_clicks_list_topics_and_questions_then_a_digit_asks(running, rasa, kb, menu):
    section = reply_text(await running.post(event_xml("CLICK", key="SECTION:rights")))
    assert "1. 涉侨法律法规" in section
    topic = reply_text(await running.post(text_xml("1")))
    assert topic.startswith("【涉侨法律法规】") and rasa.received == []
    first = sorted(k for k, e in kb.entries.items() if e.topic == "rights_law")[0]
    reply_text(await running.post(text_xml("1")))
    assert rasa.received[-1]["message"] == kb.entries[first].title


@pytest.mark.parametrize(("key", "sent"), [("CMD:status", "查询进度"), ("CMD:human", "转人工")])
async def test_status_and_human_menu_items_reach_the_bot(running, rasa, key, sent):
    reply_text(await running.post(event_xml("CLICK", key=key)))
    assert rasa.received[-1]["message"] == sent


async def test_tip_menu_items_subscribe_and_unsubscribe(running, sessions):
    assert "已订阅" in reply_text(await running.post(event_xml("CLICK", key="CMD:tip_on")))
    assert "已订阅" in reply_text(await running.post(event_xml("CLICK", key="CMD:tip_on")))
    with session_scope(sessions) as session:
        assert tips.is_subscribed(session, f"wx:{OPENID}")
    assert "已取消" in reply_text(await running.post(event_xml("CLICK", key="CMD:tip_off")))
    assert "没有订阅" in reply_text(await running.post(text_xml("退订侨法")))


async def test_privacy_and_unknown_menu_keys(running, kb):
    privacy = reply_text(await running.post(event_xml("CLICK", key="CMD:privacy")))
    assert "OpenID" in privacy and kb.office.contact in privacy
    assert "菜单项已更新" in reply_text(await running.post(event_xml("CLICK", key="OLD:key")))


@pytest.mark.parametrize("event", ["VIEW", "LOCATION", "TEMPLATESENDJOBFINISH", "whatever"])
async def test_silent_events_get_no_reply(running, rasa, event):
    assert (await running.post(event_xml(event, key="https://example.gov.cn"))).text == "success"
    assert rasa.received == []


async def test_voice_with_recognition_is_answered_as_text(running, rasa):
    xml = message_xml("voice", MediaId="m1", Format="amr", Recognition="护照丢了怎么办")
    assert reply_text(await running.post(xml)).startswith("答复：护照丢了怎么办")
    assert rasa.received[-1]["message"] == "护照丢了怎么办"


@pytest.mark.parametrize(
    ("msg_type", "fields", "expected"),
    [
        ("voice", {"MediaId": "m", "Format": "amr"}, "没有识别出这段语音"),
        ("image", {"PicUrl": "https://mmbiz.qpic.cn/x", "MediaId": "m"}, "暂时无法识别图片"),
        ("video", {"MediaId": "m", "ThumbMediaId": "t"}, "只能处理文字"),
        ("shortvideo", {"MediaId": "m", "ThumbMediaId": "t"}, "只能处理文字"),
        (
            "location",
            {"Location_X": "23.1", "Location_Y": "113.3", "Scale": "20", "Label": "x"},
            "位置",
        ),
        ("link", {"Title": "t", "Description": "d", "Url": "https://example.com"}, "无法打开链接"),
        (
            "file",
            {"Title": "a.pdf", "FileKey": "k", "FileMd5": "m", "FileTotalLen": "10"},
            "无法查看文件",
        ),
        ("miniprogrampage", {"Title": "t"}, "只能处理文字"),
        ("somethingnew", {}, "只能处理文字"),
    ],
)
async def test_other_message_types_get_a_polite_reply_and_never_reach_rasa(
    running, rasa, msg_type, fields, expected
):
    assert expected in reply_text(await running.post(message_xml(msg_type, **fields)))
    assert rasa.received == []


async def test_rasa_down_parks_the_message_and_says_so(running, rasa, sessions):
    rasa.down = True
    text = reply_text(await running.post(text_xml("有人吗")))
    assert "服务暂时不可用" in text


async def test_over_long_message_is_refused_politely(running, rasa):
    assert "消息太长" in reply_text(await running.post(text_xml("长" * 2100)))
    assert rasa.received == []


async def test_dedupe_rows_hold_no_openid_and_are_purged_after_a_day(running, sessions):
    import datetime as dt

    from bot.wechat import store

    await running.post(text_xml("你好"))
    with session_scope(sessions) as session:
        keys = session.scalars(select(WechatMessage.key)).all()
        assert keys and all(OPENID not in k for k in keys)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        assert store.purge_messages(session, later) == len(keys)


async def test_dedupe_trouble_still_answers_and_a_crash_in_a_turn_is_a_polite_text(
    running, rasa, monkeypatch
):
    from bot.wechat import store

    def broken(*_args):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(store, "claim_message", broken)
    assert reply_text(await running.post(text_xml("数据库有问题"))).startswith("答复：数据库有问题")
    monkeypatch.setattr(store, "record_inbound", broken)
    assert "服务暂时不可用" in reply_text(await running.post(text_xml("再试一次")))


def store_lang(sessions, lang: str) -> None:
    """The WeChat user's stored answer language (their choice, or what they wrote in last)."""
    with session_scope(sessions) as session:
        preferences.set_lang(session, f"wx:{OPENID}", lang, dt.datetime.now(dt.UTC))


async def test_an_english_speaker_reads_the_channels_own_texts_in_english(running, rasa, sessions):
    store_lang(sessions, "en")
    image = message_xml("image", PicUrl="https://mmbiz.qpic.cn/x", MediaId="m")
    assert reply_text(await running.post(image)).startswith("Picture received.")
    assert reply_text(await running.post(event_xml("SCAN"))).startswith("Welcome back!")
    subscribed = reply_text(await running.post(text_xml("Subscribe")))
    assert subscribed.startswith("Subscribed") and "(Beijing time)" in subscribed
    with session_scope(sessions) as session:
        assert tips.is_subscribed(session, f"wx:{OPENID}")
    again = reply_text(await running.post(event_xml("CLICK", key="CMD:tip_on")))
    assert again.startswith("You already get the daily tip.")
    privacy = reply_text(await running.post(text_xml("privacy")))
    assert privacy.startswith("Privacy\nOn WeChat") and "OpenID" in privacy
    await running.post(event_xml("CLICK", key="CMD:human"))
    assert rasa.received[-1]["message"] == "human"  # understood as a handoff, keeps English


async def test_a_traditional_chinese_speaker_reads_traditional_characters(running, sessions):
    store_lang(sessions, "zh-Hant")
    assert reply_text(await running.post(event_xml("SCAN"))).startswith("歡迎回來")
    # Words the bot answers itself are understood in traditional characters too.
    assert "已訂閱" in reply_text(await running.post(text_xml("訂閱僑法")))


async def test_a_message_in_english_gets_english_hints_before_any_language_is_stored(running, rasa):
    rasa.say(
        "apostille",
        "Did you mean:",
        {"type": "suggestions", "options": [{"kb_id": "apostille_verify", "title": "Verify"}]},
    )
    text = reply_text(await running.post(text_xml("apostille")))
    assert "1. Verify\nReply with a number" in text and "回复数字" not in text


async def test_chinese_both_scripts_share_keeps_a_traditional_speakers_script(running, rasa, sessions):
    store_lang(sessions, "zh-Hant")
    rasa.say("算了，不用查了", "好的，已取消进度查询。", {"type": "cancelled"})
    # "算了，不用查了" is written the same in both scripts: the reply stays traditional
    assert reply_text(await running.post(text_xml("算了，不用查了"))).startswith("好的，已取消進度查詢")
    with session_scope(sessions) as session:
        assert preferences.get_lang(session, f"wx:{OPENID}") == "zh-Hant"
