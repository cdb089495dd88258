"""WeChat rendering: links, numbered options, status cards, staff replies, byte-safe splitting."""

from __future__ import annotations

from bot.wechat.render import (
    TEXT_LIMIT_BYTES,
    pack,
    render,
    render_outbox,
    section_menu,
    split_text,
    topic_menu,
)
from core.conversation.rasa_client import BotMessage

ANSWER = {
    "type": "kb_answer",
    "kb_id": "apostille_how_to_apply",
    "sources": [
        {"title": "中国领事服务网", "url": "https://cs.mfa.gov.cn/"},
        {"title": "不安全", "url": "javascript:alert(1)"},
    ],
    "last_reviewed": "2026-11-23",
    "options": [
        {"kb_id": "notarization_first", "title": "办认证前要先公证吗？"},
        {"kb_id": "apostille_verify", "title": "怎么核验附加证明书？"},
    ],
}


def test_answer_shows_sources_as_links_and_follow_ups_as_numbered_options():
    rendered = render(BotMessage("先办理公证，再申请附加证明书。", ANSWER))
    assert '依据：<a href="https://cs.mfa.gov.cn/">中国领事服务网</a>；不安全' in rendered.text
    assert "javascript" not in rendered.text
    assert "审核日期：2026-11-23" in rendered.text
    assert "1. 办认证前要先公证吗？\n2. 怎么核验附加证明书？" in rendered.text
    assert "回复数字" in rendered.text
    assert [o["kb_id"] for o in rendered.options] == ["notarization_first", "apostille_verify"]


def test_suggestions_are_numbered_and_offer_a_human():
    rendered = render(
        BotMessage(
            "您是不是想问：",
            {
                "type": "suggestions",
                "options": [{"kb_id": "a", "title": "甲"}, {"kb_id": "b", "title": "乙"}],
            },
        )
    )
    assert "1. 甲\n2. 乙" in rendered.text and "转人工" in rendered.text
    assert rendered.options == [{"kb_id": "a", "title": "甲"}, {"kb_id": "b", "title": "乙"}]


def test_status_card_is_text_with_a_heading_and_no_options():
    rendered = render(
        BotMessage("VA-2026-000123：审核中。", {"type": "status", "state": "in_review"})
    )
    assert rendered.text.startswith("📋 办理进度\nVA-2026-000123：审核中。")
    assert "转人工" in rendered.text and rendered.options is None


def test_fallback_mentions_the_human_once():
    rendered = render(BotMessage("抱歉，我没有理解。可以发送“转人工”。", {"type": "fallback"}))
    assert rendered.text.count("转人工") == 1


def test_staff_reply_and_notification_from_the_outbox():
    assert render_outbox("staff_reply", "请带护照原件。", {"ticket": 7}) == [
        "👤 工作人员回复（工单 #7）：\n请带护照原件。"
    ]
    note = render_outbox("notification", "您的申请已办结。", {"type": "status"})
    assert note[0].startswith("🔔 📋 办理进度")


def test_tip_tells_how_to_unsubscribe():
    text = render_outbox("tip", "【侨法早知道】…", {"type": "tip", "kb_id": "x", "sources": []})[0]
    assert "退订侨法" in text


def test_long_text_is_split_below_the_byte_limit_at_sentence_ends_and_never_inside_a_link():
    sentence = "这是一个比较长的句子，用来测试分段。"
    link = '<a href="https://example.gov.cn/a/very/long/path">一个很长的来源标题</a>'
    text = (sentence * 60) + link + (sentence * 60)
    parts = split_text(text)
    assert len(parts) >= 3
    assert all(len(p.encode()) <= TEXT_LIMIT_BYTES for p in parts)
    assert "".join(parts) == text
    assert any(link in p for p in parts)
    assert all(p.endswith(("。", "</a>")) for p in parts[:-1])


def test_split_text_without_breaks_still_fits():
    parts = split_text("字" * 3000)
    assert all(len(p.encode()) <= TEXT_LIMIT_BYTES for p in parts) and "".join(parts) == "字" * 3000


def test_pack_joins_short_parts_into_as_few_messages_as_fit():
    assert pack(["甲", "乙"]) == ["甲\n\n乙"]
    big = "长" * 600  # 1,800 bytes
    assert len(pack([big, big])) == 2


def test_topic_and_section_menus_number_their_entries(kb, menu):
    topic = topic_menu(kb, menu, "apostille")
    assert topic.text.startswith("【附加证明书】") and "1. " in topic.text
    assert all("kb_id" in o for o in topic.options)
    assert all(kb.entries[o["kb_id"]].topic == "apostille" for o in topic.options)
    section = section_menu(menu, "rights")
    assert [o["topic"] for o in section.options] == menu.sections["rights"]


def test_the_hints_wechat_adds_are_in_the_citizens_language():
    english = BotMessage(
        "Did you mean:",
        {"type": "suggestions", "options": [{"kb_id": "a", "title": "A"}], "lang": "en"},
    )
    text = render(english, "en").text
    assert "1. A\nReply with a number" in text and 'reply "human"' in text
    assert "回复数字" not in text and "转人工" not in text
    assert "回覆數字" in render(BotMessage("您是不是想问：", english.custom), "zh-Hant").text


def test_an_english_tip_from_the_outbox_ends_with_the_english_unsubscribe_hint():
    payload = {"type": "tip", "kb_id": "apostille_how_to_apply", "sources": [], "lang": "en"}
    (text,) = render_outbox("tip", "Daily tip.", payload)
    assert text.endswith('Reply "unsubscribe" to stop the daily tip.')
    (chinese,) = render_outbox("tip", "每日一条。", {**payload, "lang": "zh"})
    assert chinese.endswith("回复“退订侨法”可取消每日推送。")
