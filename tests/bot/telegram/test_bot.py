"""The Telegram bot against a fake Bot API server and a fake Rasa: commands, buttons, updates."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from bot.telegram import texts
from bot.telegram.render import CALLBACK_LIMIT, feedback_row, render, render_outbox, split_text
from core.conversation.rasa_client import BotMessage
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import ChannelPreference, Feedback, HandoffTicket, Subscription
from tests.fake_telegram import (
    callback_update,
    group_update,
    message_update,
    start_bot,
)
from tests.fakes import FakeRasa


@pytest.fixture
async def running_bot(telegram, sessions, kb, tg_settings):
    rasa = FakeRasa()
    handle = await start_bot(telegram, Relay(rasa.client(), sessions), kb, settings=tg_settings)
    yield rasa
    await handle.stop()


def keyboard_data(params: dict) -> list[str]:
    rows = (params.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


# --- conversation -------------------------------------------------------------------------


async def test_text_round_trip_renders_sources_buttons_and_feedback(telegram, running_bot):
    telegram.push(message_update(42, "附加证明书怎么办理？"))
    sent = await telegram.wait_for("sendMessage")
    assert running_bot.received == [
        {"sender": "tg:42", "message": "附加证明书怎么办理？", "metadata": {"lang": "zh"}}
    ]
    assert sent[0]["chat_id"] == "42" and sent[0]["parse_mode"] == "HTML"
    assert '<a href="https://cs.mfa.gov.cn/">中国领事服务网</a>' in sent[0]["text"]
    assert keyboard_data(sent[0]) == [
        "kb:notarization_first",
        "fb1:apostille_how_to_apply",
        "fb0:apostille_how_to_apply",
    ]


async def test_rasa_down_tells_citizen_and_keeps_message(telegram, running_bot, sessions):
    running_bot.down = True
    telegram.push(message_update(9, "签证怎么办"))
    sent = await telegram.wait_for("sendMessage")
    assert "服务暂时不可用" in sent[0]["text"]
    with session_scope(sessions) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        assert ticket.sender_id == "tg:9" and [m.text for m in ticket.messages] == ["签证怎么办"]


async def test_over_long_message_is_refused_politely(telegram, running_bot):
    telegram.push(message_update(11, "长" * 2500))
    sent = await telegram.wait_for("sendMessage")
    assert "太长" in sent[0]["text"] and running_bot.received == []


# --- commands -----------------------------------------------------------------------------


async def test_start_welcomes_in_chinese_and_english_with_reply_keyboard(telegram, running_bot):
    telegram.push(message_update(1, "/start"))
    sent = await telegram.wait_for("sendMessage")
    assert sent[0]["text"].startswith("您好") and "Hello!" in sent[0]["text"]
    labels = [b["text"] for row in sent[0]["reply_markup"]["keyboard"] for b in row]
    assert labels == ["归侨侨眷权益", "签证代办", "领事认证/附加证明书", "查询进度", "转人工"]
    assert running_bot.received == []


async def test_help_lists_every_command(telegram, running_bot):
    telegram.push(message_update(1, "/help"))
    text = (await telegram.wait_for("sendMessage"))[0]["text"]
    for command in ("/status", "/human", "/lang", "/subscribe", "/unsubscribe", "/privacy"):
        assert command in text


@pytest.mark.parametrize(
    ("message", "relayed"),
    [("/status", "查询进度"), ("/human", "转人工"), ("查询进度", "查询进度"), ("转人工", "转人工")],
)
async def test_status_and_human_commands_and_buttons_reach_the_bot(
    telegram, running_bot, message, relayed
):
    telegram.push(message_update(3, message))
    await telegram.wait_for("sendMessage")
    assert running_bot.received == [
        {"sender": "tg:3", "message": relayed, "metadata": {"lang": "zh"}}
    ]


async def test_section_buttons_list_topics_and_questions_without_asking_rasa(
    telegram, running_bot, kb
):
    telegram.push(message_update(4, "签证代办"))
    visa = (await telegram.wait_for("sendMessage"))[0]
    assert keyboard_data(visa) == sorted(
        f"kb:{k}" for k, e in kb.entries.items() if e.topic == "visa_agency"
    )
    telegram.push(message_update(4, "归侨侨眷权益"))
    rights = (await telegram.wait_for("sendMessage", count=2))[1]
    assert "tp:rights_status" in keyboard_data(rights)
    telegram.push(callback_update(4, "tp:rights_status"))
    topic = (await telegram.wait_for("sendMessage", count=3))[2]
    assert keyboard_data(topic) == sorted(
        f"kb:{k}" for k, e in kb.entries.items() if e.topic == "rights_status"
    )
    assert running_bot.received == []


async def test_lang_en_is_stored_and_sent_to_rasa_as_metadata(telegram, running_bot, sessions):
    telegram.push(message_update(5, "/lang en"))
    await telegram.wait_for("sendMessage")
    with session_scope(sessions) as session:
        assert session.get(ChannelPreference, "tg:5").lang == "en"
    telegram.push(message_update(5, "what is an apostille"))
    await telegram.wait_for("sendMessage", count=2)
    assert running_bot.received[-1] == {
        "sender": "tg:5",
        "message": "what is an apostille",
        "metadata": {"lang": "en"},
    }
    telegram.push(message_update(5, "/lang"))
    choose = (await telegram.wait_for("sendMessage", count=3))[2]
    assert keyboard_data(choose) == ["lang:zh", "lang:zh-Hant", "lang:en"]
    telegram.push(callback_update(5, "lang:zh"))
    await telegram.wait_for("sendMessage", count=4)
    telegram.push(message_update(5, "附加证明书"))
    await telegram.wait_for("sendMessage", count=5)
    assert running_bot.received[-1] == {
        "sender": "tg:5",
        "message": "附加证明书",
        "metadata": {"lang": "zh"},
    }


async def test_an_english_telegram_user_gets_the_fixed_texts_in_english(telegram, running_bot):
    update = message_update(7, "/start")
    update["message"]["from"]["language_code"] = "en-GB"
    telegram.push(update)
    welcome = (await telegram.wait_for("sendMessage"))[0]
    assert welcome["text"] == texts.text("welcome", "en") and "Hello!" in welcome["text"]
    labels = [b["text"] for row in welcome["reply_markup"]["keyboard"] for b in row]
    assert "Check my application" in labels and "转人工" not in labels


async def test_the_chosen_language_wins_over_the_telegram_app(telegram, running_bot, sessions):
    telegram.push(message_update(8, "/lang en"))
    confirmed = (await telegram.wait_for("sendMessage"))[0]
    assert confirmed["text"] == texts.lang_set("en")
    telegram.push(message_update(8, "/help"))
    help_text = (await telegram.wait_for("sendMessage", count=2))[1]["text"]
    assert help_text == texts.text("help", "en") and "/status check the progress" in help_text
    telegram.push(message_update(8, "/status"))
    await telegram.wait_for("sendMessage", count=3)
    # The command is relayed in the conversation's language, so it stays English.
    assert running_bot.received[-1]["message"] == "Check my application"
    assert running_bot.received[-1]["metadata"] == {"lang": "en"}


async def test_lang_zh_hant_is_accepted_and_confirmed_in_traditional(telegram, running_bot):
    telegram.push(message_update(9, "/lang zh-Hant"))
    confirmed = (await telegram.wait_for("sendMessage"))[0]
    assert confirmed["text"] == "已切換為繁體中文答覆。"
    telegram.push(message_update(9, "/help"))
    help_text = (await telegram.wait_for("sendMessage", count=2))[1]["text"]
    assert "使用幫助" in help_text


async def test_lang_with_unknown_code_explains_usage(telegram, running_bot, sessions):
    telegram.push(message_update(5, "/lang fr"))
    sent = await telegram.wait_for("sendMessage")
    assert sent[0]["text"] == texts.text("lang_usage")
    with session_scope(sessions) as session:
        assert session.get(ChannelPreference, "tg:5") is None


async def test_subscribe_and_unsubscribe_daily_tip(telegram, running_bot, sessions):
    telegram.push(message_update(6, "/subscribe"))
    telegram.push(message_update(6, "/subscribe"))
    sent = await telegram.wait_for("sendMessage", count=2)
    assert "09:00（北京时间）" in sent[0]["text"] and sent[1]["text"] == texts.text(
        "already_subscribed"
    )
    with session_scope(sessions) as session:
        subs = session.scalars(select(Subscription)).all()
        assert [(s.sender_id, s.kind) for s in subs] == [("tg:6", "daily_tip")]
    telegram.push(message_update(6, "/unsubscribe"))
    telegram.push(message_update(6, "/unsubscribe"))
    sent = await telegram.wait_for("sendMessage", count=4)
    assert sent[2]["text"] == texts.text("unsubscribed") and sent[3]["text"] == texts.text(
        "not_subscribed"
    )
    with session_scope(sessions) as session:
        assert session.scalars(select(Subscription)).all() == []


async def test_privacy_names_what_is_stored_and_the_office_contact(telegram, running_bot, kb):
    telegram.push(message_update(7, "/privacy"))
    text = (await telegram.wait_for("sendMessage"))[0]["text"]
    assert "tg:" in text and "/unsubscribe" in text and "工单" in text
    assert kb.office.office_name in text
    assert running_bot.received == []


async def test_unknown_command_is_never_relayed_to_rasa(telegram, running_bot):
    telegram.push(message_update(8, "/request_human"))
    sent = await telegram.wait_for("sendMessage")
    assert sent[0]["text"] == texts.text("unknown_command") and running_bot.received == []


# --- other update types -------------------------------------------------------------------

PHOTO = [{"file_id": "p", "file_unique_id": "pu", "width": 1, "height": 1}]
STICKER = {
    "file_id": "s",
    "file_unique_id": "u",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"photo": PHOTO, "caption": "这是我的护照"}, texts.text("non_text")),
        ({"sticker": STICKER}, texts.text("non_text")),
        (
            {"voice": {"file_id": "v", "file_unique_id": "vu", "duration": 2}},
            texts.text("non_text"),
        ),
        ({"document": {"file_id": "d", "file_unique_id": "du"}}, texts.text("non_text")),
        ({"location": {"latitude": 1.0, "longitude": 2.0}}, texts.text("non_text")),
        (
            {"contact": {"phone_number": "+8613800000000", "first_name": "张"}},
            texts.text("contact_shared"),
        ),
    ],
)
async def test_non_text_messages_get_a_polite_reply(telegram, running_bot, content, expected):
    telegram.push(message_update(12, **content))
    sent = await telegram.wait_for("sendMessage")
    assert sent[0]["text"] == expected and running_bot.received == []


async def test_edited_message_is_not_processed_again(telegram, running_bot):
    update = message_update(13, "改过的问题")
    telegram.push({"edited_message": {**update["message"], "edit_date": 1}})
    sent = await telegram.wait_for("sendMessage")
    assert sent[0]["text"] == texts.text("edited") and running_bot.received == []


async def test_channel_posts_are_ignored(telegram, running_bot):
    post = {
        "message_id": 1,
        "date": 1,
        "chat": {"id": -100200, "type": "channel", "title": "公告"},
        "text": "频道消息",
    }
    telegram.push({"channel_post": post})
    telegram.push({"edited_channel_post": {**post, "edit_date": 2}})
    await telegram.wait_processed()
    assert telegram.sent() == [] and running_bot.received == []


async def test_group_messages_are_ignored_unless_addressed_then_refused(telegram, running_bot):
    telegram.push(group_update(-100, "大家好，附加证明书怎么办？"))
    telegram.push(group_update(-100, "@someone_else 你好", entities=[_mention(0, 13)]))
    await telegram.wait_processed()
    assert telegram.sent() == []
    telegram.push(group_update(-100, "@qw_bot 附加证明书怎么办？", entities=[_mention(0, 7)]))
    telegram.push(group_update(-100, "谢谢，那领事认证呢？", reply_to_bot=True))
    telegram.push(
        group_update(
            -100, "/help@qw_bot", entities=[{"type": "bot_command", "offset": 0, "length": 12}]
        )
    )
    telegram.push(group_update(-5, "@QW_bot 你好", entities=[_mention(0, 7)], chat_type="group"))
    telegram.push(group_update(-5, "群里聊天", chat_type="group"))
    await telegram.wait_processed()
    assert sorted(s["chat_id"] for s in telegram.sent()) == ["-100", "-100", "-100", "-5"]
    replies = telegram.sent()
    assert all("@qw_bot" in s["text"] and "12308" in s["text"] for s in replies)
    assert running_bot.received == []


def _mention(offset: int, length: int) -> dict:
    return {"type": "mention", "offset": offset, "length": length}


async def test_inline_queries_get_an_empty_answer_with_a_private_chat_button(telegram, running_bot):
    telegram.push(
        {
            "inline_query": {
                "id": "iq1",
                "from": {"id": 15, "is_bot": False, "first_name": "T"},
                "query": "签证",
                "offset": "",
            }
        }
    )
    answer = (await telegram.wait_for("answerInlineQuery"))[0]
    assert answer["results"] == [] and answer["button"]["start_parameter"] == "inline"


# --- buttons ------------------------------------------------------------------------------


async def test_button_press_asks_the_entry_question(telegram, running_bot, kb):
    telegram.push(callback_update(5, "kb:notarization_first"))
    await telegram.wait_for("sendMessage")
    assert running_bot.received == [
        {
            "sender": "tg:5",
            "message": kb.get("notarization_first").title,
            "metadata": {"lang": "zh"},
        }
    ]
    assert telegram.sent("answerCallbackQuery")


async def test_button_on_a_message_too_old_to_access_still_works(telegram, running_bot, kb):
    telegram.push(callback_update(5, "kb:notarization_first", inaccessible=True))
    sent = await telegram.wait_for("sendMessage")
    assert sent[0]["chat_id"] == "5"
    assert running_bot.received[0]["message"] == kb.get("notarization_first").title


@pytest.mark.parametrize("data", ["kb:no_such_entry", "legacy-button", "tp:nope", "cmd:rm"])
async def test_stale_or_unknown_buttons_are_acknowledged_politely(telegram, running_bot, data):
    telegram.push(callback_update(5, data, inaccessible=True))
    answers = await telegram.wait_for("answerCallbackQuery")
    assert answers[0]["text"] == texts.text("button_expired")
    assert running_bot.received == [] and telegram.sent("sendMessage") == []


async def test_feedback_is_stored_once_and_its_buttons_removed(telegram, running_bot, sessions):
    markup = {
        "inline_keyboard": [
            [{"text": "办认证前要先公证吗？", "callback_data": "kb:notarization_first"}],
            [
                {"text": "👍", "callback_data": "fb1:apostille_how_to_apply"},
                {"text": "👎", "callback_data": "fb0:apostille_how_to_apply"},
            ],
        ]
    }
    telegram.push(callback_update(20, "fb0:apostille_how_to_apply", reply_markup=markup))
    edit = (await telegram.wait_for("editMessageReplyMarkup"))[0]
    assert [b["callback_data"] for row in edit["reply_markup"]["inline_keyboard"] for b in row] == [
        "kb:notarization_first"
    ]
    assert telegram.sent("answerCallbackQuery")[0]["text"] == texts.text("feedback_thanks")
    telegram.push(callback_update(20, "fb1:not_a_kb_id"))
    await telegram.wait_for("answerCallbackQuery", count=2)
    with session_scope(sessions) as session:
        rows = session.scalars(select(Feedback)).all()
        assert [(r.kb_id, r.helpful) for r in rows] == [("apostille_how_to_apply", False)]


async def test_status_card_and_human_button(telegram, sessions, kb, tg_settings):
    class StatusRasa(FakeRasa):
        def handler(self, request):
            import httpx

            self.received.append(request.content)
            return httpx.Response(
                200,
                json=[
                    {"text": "因私签证代办（VA-2026-000123）\n当前状态：审核中"},
                    {"custom": {"type": "status", "reference": "VA-2026-000123", "state": "x"}},
                ],
            )

    handle = await start_bot(
        telegram, Relay(StatusRasa().client(), sessions), kb, settings=tg_settings
    )
    try:
        telegram.push(message_update(21, "5678"))
        card = (await telegram.wait_for("sendMessage"))[0]
    finally:
        await handle.stop()
    assert card["text"].startswith("<b>📋 办理进度</b>\n因私签证代办（VA-2026-000123）")
    assert keyboard_data(card) == ["cmd:human"]


async def test_long_answers_are_split_below_the_telegram_limit(telegram, sessions, kb, tg_settings):
    paragraph = "华侨回国定居后依法享有相应权利 & 义务。" * 40 + "\n"

    class LongRasa(FakeRasa):
        def handler(self, request):
            response = super().handler(request)
            items = response.json()
            items[0]["text"] = paragraph * 12
            import httpx

            return httpx.Response(200, json=items)

    handle = await start_bot(
        telegram, Relay(LongRasa().client(), sessions), kb, settings=tg_settings
    )
    try:
        telegram.push(message_update(22, "回国定居"))
        await telegram.wait_processed()
    finally:
        await handle.stop()
    parts = [s for s in telegram.sent() if s["chat_id"] == "22"]
    assert len(parts) >= 2 and all(len(p["text"]) <= 4096 for p in parts)
    assert all(p["text"].count("<a ") == p["text"].count("</a>") for p in parts)
    assert all(not re.search(r"&[a-z]*$", p["text"]) for p in parts)
    assert [bool(p.get("reply_markup")) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert "&amp;" in parts[0]["text"]


# --- flood control ------------------------------------------------------------------------


async def test_flood_control_drops_excess_messages_and_warns_once(
    telegram, sessions, kb, tg_settings
):
    rasa = FakeRasa()
    ticks = [0.0]
    settings = tg_settings.model_copy(
        update={"telegram_flood_burst": 2, "telegram_flood_rate": 0.1}
    )
    handle = await start_bot(
        telegram, Relay(rasa.client(), sessions), kb, settings=settings, monotonic=lambda: ticks[0]
    )
    try:
        for i in range(5):
            telegram.push(message_update(30, f"问题{i}"))
        await telegram.wait_processed()
        ticks[0] = 10.0  # one token back
        telegram.push(message_update(30, "再问一次"))
        await telegram.wait_processed()
    finally:
        await handle.stop()
    mine = [s["text"] for s in telegram.sent() if s["chat_id"] == "30"]
    assert mine.count(texts.text("flooded")) == 1
    assert [r["message"] for r in rasa.received] == ["问题0", "问题1", "再问一次"]


# --- rendering ----------------------------------------------------------------------------


def test_render_escapes_html_and_splits_long_answers():
    parts = render(BotMessage(text="<b>x</b> & " + "段落。\n" * 2000, custom={}))
    assert parts[0].text.startswith("&lt;b&gt;x&lt;/b&gt; &amp;")
    assert len(parts) > 1 and all(len(p.text) <= 4096 for p in parts)


def test_split_text_never_cuts_inside_a_tag_or_entity():
    text = "a" * 4090 + '<a href="https://x.y/">link</a>'
    chunks = split_text(text)
    assert all(c.count("<a ") == c.count("</a>") for c in chunks)
    assert "".join(chunks) == text
    chunks = split_text("b" * 4094 + "&amp;tail")
    assert chunks == ["b" * 4094, "&amp;tail"]


def test_every_kb_id_fits_callback_data(kb):
    for kb_id in kb.entries:
        assert len(f"kb:{kb_id}".encode()) <= CALLBACK_LIMIT
        assert len(feedback_row(kb_id)) == 2
    assert feedback_row("x" * 61) == []


def test_suggestions_and_fallback_offer_a_human():
    options = [{"kb_id": "apostille_what_is", "title": "什么是附加证明书？"}]
    parts = render(BotMessage("您是不是想问", {"type": "suggestions", "options": options}))
    data = [b.callback_data for row in parts[0].keyboard.inline_keyboard for b in row]
    assert data == ["kb:apostille_what_is", "cmd:human"]
    parts = render(BotMessage("抱歉", {"type": "fallback"}))
    assert parts[0].keyboard.inline_keyboard[0][0].callback_data == "cmd:human"


def test_staff_reply_is_escaped_and_labelled():
    parts = render_outbox("staff_reply", "<script>您好</script>", {"ticket": 7})
    assert parts[0].text == "<b>👤 工作人员回复（工单 #7）：</b>\n&lt;script&gt;您好&lt;/script&gt;"


async def test_commands_are_published_to_the_telegram_menu(telegram, running_bot):
    published = (await telegram.wait_for("setMyCommands"))[0]["commands"]
    names = [c["command"] for c in json.loads(published)]
    assert names == [
        "start",
        "help",
        "status",
        "human",
        "lang",
        "subscribe",
        "unsubscribe",
        "privacy",
    ]


def test_case_notification_is_a_status_card_with_a_bell():
    parts = render_outbox(
        "notification",
        "您关注的业务有新进展：\n因私签证代办（VA-2026-000123）",
        {"type": "status", "reference": "VA-2026-000123"},
    )
    assert parts[0].text.startswith("🔔 <b>📋 办理进度</b>\n您关注的业务有新进展")
    assert parts[0].keyboard.inline_keyboard[0][0].callback_data == "cmd:human"


def test_english_answers_label_their_sources_in_english():
    custom = {
        "type": "kb_answer",
        "kb_id": "apostille_what_is",
        "lang": "en",
        "sources": [{"title": "MFA", "url": "javascript:alert(1)"}],
        "last_reviewed": "2026-11-01",
    }
    text = render(BotMessage("An apostille is …", custom))[0].text
    assert "Sources: MFA" in text and "href" not in text and "Last reviewed: 2026-11-01" in text
