"""Replies in the citizen's language and script; the choice stays with the conversation."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from core.conversation import language
from core.conversation.rasa_client import BotMessage, RasaClient
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.notify.preferences import get_lang

CJK = language._CJK_RE


@pytest.mark.parametrize(
    "text, lang",
    [
        ("hello", "en"),
        ("any news on my visa application?", "en"),
        ("附加证明书怎么办理", "zh"),
        ("附加證明書怎麼辦理", "zh-Hant"),
        ("APOSTILLE是什么", "zh"),
        ("VA-2026-000123", None),  # letters, but a reference: mostly digits
        ("1234", None),
        ("👍", None),
    ],
)
def test_detect(text, lang):
    assert language.detect(text) == lang


@pytest.mark.parametrize(
    "text, current, lang",
    [
        ("算了，不用查了", "zh-Hant", "zh-Hant"),  # characters both scripts share: script kept
        ("你好", "zh-Hant", "zh-Hant"),
        ("你好", "zh", "zh"),
        ("你好", "en", "zh"),  # but Chinese after English is Chinese
        ("你好", None, "zh"),
        ("附加证明书怎么办理", "zh-Hant", "zh"),  # simplified-only characters switch back
        ("唔查住，取消", "zh", "zh"),
        ("唔查住，取消", None, "zh-Hant"),  # written Cantonese opening a conversation
        ("早晨", None, "zh-Hant"),
        ("早晨好", None, "zh"),
        ("唔该晒", None, "zh"),  # 该: simplified-only, so simplified
    ],
)
def test_chinese_without_script_markers_keeps_the_conversations_script(text, current, lang):
    assert language.detect(text, current) == lang


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "greeting"},
        {"type": "goodbye"},
        {"type": "thanks"},
        {"type": "status_prompt", "need": "reference"},
        {"type": "status_prompt", "need": "verification", "error": "format"},
        {"type": "status_cancelled", "nothing": True},
        {"type": "status_denied"},
        {"type": "status_denied", "retry_after_s": 600},
        {"type": "fallback"},
        {"type": "suggestions", "options": []},
        {"type": "handoff", "ticket": 7, "position": 2, "state": "queued"},
        {"type": "in_ticket", "ticket": 7},
        {"type": "unavailable", "ticket": 8},
        {"type": "office_hours", "next_open": "2026-12-02T09:00:00+08:00"},
        {
            "type": "status",
            "reference": "VA-2026-000123",
            "kind": "visa_agency",
            "state": "submitted",
            "updated_at": "2026-11-30T10:00:00+00:00",
            "next_step": "已送交",
        },
    ],
)
def test_every_fixed_reply_exists_in_english(payload):
    out = language.localize([BotMessage("中文答复", payload)], "en", lambda: "working days 9-17")
    assert out[0].text and not CJK.search(out[0].text), out[0].text


def test_english_option_titles_come_from_the_kb():
    message = BotMessage(
        "您是不是想问", {"type": "suggestions", "options": [{"kb_id": "a", "title": "标题"}]}
    )
    out = language.localize([message], "en", title_en=lambda kb_id: "Title A")
    assert out[0].custom["options"] == [{"kb_id": "a", "title": "Title A"}]


def test_traditional_conversion_of_text_and_buttons():
    message = BotMessage(
        "附加证明书由外交部签发。",
        {
            "type": "kb_answer",
            "title": "什么是附加证明书",
            "options": [{"kb_id": "x", "title": "办理时间和费用"}],
        },
    )
    out = language.localize([message], "zh-Hant")[0]
    assert out.text == "附加證明書由外交部簽發。"
    assert out.custom["title"] == "什麼是附加證明書"
    assert out.custom["options"][0]["title"] == "辦理時間和費用"


def test_simplified_is_left_alone():
    message = BotMessage("附加证明书", {"type": "kb_answer"})
    assert language.localize([message], "zh") == [message]


def _rasa(seen: list[dict]) -> RasaClient:
    def handler(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(
            200,
            json=[
                {
                    "recipient_id": body["sender"],
                    "text": "您好！我是助手。",
                    "custom": {"type": "greeting"},
                }
            ],
        )

    return RasaClient(
        "http://rasa", client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )


def test_relay_answers_in_the_script_and_keeps_it_for_neutral_messages(sessions):
    seen: list[dict] = []
    relay = Relay(_rasa(seen), sessions)
    sender = "web:lang-test"

    def say(text: str, lang: str | None = None) -> str:
        with session_scope(sessions) as session:
            stored = get_lang(session, sender)
        meta = {"lang": lang or stored}
        return asyncio.run(relay.handle(sender, text, meta))[0].text or ""

    reply = say("你們好，請問在嗎")
    assert reply == language.to_traditional("您好！我是助手。")
    assert seen[-1]["metadata"] == {"lang": "zh", "script": "hant"}
    assert say("1234") == language.to_traditional("您好！我是助手。")  # stays traditional
    english = say("hello there")
    assert english.startswith("Hello!") and seen[-1]["metadata"]["lang"] == "en"
    assert say("VA-2026-000123").startswith("Hello!")  # stays English
    assert say("你好") == "您好！我是助手。"
