"""KB answers: the body leads with the answer; the policy / 待核实 note and the office contact come
once, as the payload's `footer`, which every messaging app shows as one short line."""

from __future__ import annotations

from actions.kb_answer import kb_reply
from bot.telegram import render as telegram
from bot.wechat import render as wechat
from core.conversation.rasa_client import BotMessage
from core.kb.schema import PENDING_PHRASE, POLICY_NOTE_ZH

PENDING = "apostille_time_fees"  # pending_verification: true
VERIFIED = "apostille_what_is"


def test_the_reply_body_has_no_policy_line_and_the_payload_has_the_footer(kb):
    body, payload = kb_reply(kb, VERIFIED, "zh")
    assert body == kb.answer(VERIFIED) and POLICY_NOTE_ZH.rstrip("。") not in body
    assert payload["footer"] == kb.footer(VERIFIED) and payload["footer"].startswith(POLICY_NOTE_ZH)
    assert kb.office.short_contact("zh") in payload["footer"]


def test_an_unverified_entry_sends_the_citizen_to_the_office_in_its_footer(kb):
    _, payload = kb_reply(kb, PENDING, "zh")
    assert (
        PENDING_PHRASE in payload["footer"] and kb.office.short_contact("zh") in payload["footer"]
    )
    _, english = kb_reply(kb, PENDING, "en")
    assert english["lang"] == "en" and "check with the office" in english["footer"]
    assert kb.office.short_contact("en") in english["footer"]


def test_telegram_shows_the_footer_once_as_one_italic_line_before_the_sources(kb):
    body, payload = kb_reply(kb, PENDING, "zh")
    text = telegram.render(BotMessage(text=body, custom=payload))[0].text
    line = f"<i>{payload['footer']}</i>"
    assert text.count(PENDING_PHRASE) == 1 + body.count(PENDING_PHRASE)
    assert line in text and text.index(line) < text.index("依据：")
    assert "\n" not in payload["footer"]


def test_wechat_shows_the_footer_as_one_line(kb):
    body, payload = kb_reply(kb, VERIFIED, "zh")
    text = wechat.render(BotMessage(text=body, custom=payload)).text
    assert payload["footer"] in text.split("\n\n")
