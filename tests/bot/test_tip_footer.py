"""Daily tips read like KB answers: the text is the heading and the answer body. The policy or
待核实 note and the office contact come once, as the payload's `footer`. Telegram and WeChat
show it as one short line."""

from __future__ import annotations

import datetime as dt

from bot.telegram import render as telegram
from bot.wechat import render as wechat
from core.kb.loader import KnowledgeBase
from core.kb.schema import PENDING_PHRASE, PENDING_PHRASE_EN, POLICY_NOTE_EN, POLICY_NOTE_ZH
from core.notify import tips

START = dt.date(2026, 12, 1)


def _day(kb: KnowledgeBase, *, pending: bool) -> dt.date:
    """The first day from START whose tip is an entry with (or without) unverified facts."""
    for offset in range(400):
        day = START + dt.timedelta(days=offset)
        if kb.entries[tips.tip_entry_id(kb, day)].pending_verification is pending:
            return day
    raise AssertionError(f"no tip entry with pending_verification={pending}")


def test_a_tip_has_no_policy_line_in_its_text_and_the_footer_in_its_payload(kb):
    day = _day(kb, pending=False)
    kb_id = tips.tip_entry_id(kb, day)
    text, payload = tips.tip_message(kb, day, "zh")
    assert text.endswith(kb.answer(kb_id)) and POLICY_NOTE_ZH.rstrip("。") not in text
    assert payload["footer"] == kb.footer(kb_id) and payload["footer"].startswith(POLICY_NOTE_ZH)
    assert kb.office.short_contact("zh") in payload["footer"]
    assert ("footer_url" in payload) is (kb.office.website_url is not None)


def test_an_unverified_tip_sends_the_citizen_to_the_office_in_both_languages(kb):
    day = _day(kb, pending=True)
    kb_id = tips.tip_entry_id(kb, day)
    _, zh = tips.tip_message(kb, day, "zh")
    assert PENDING_PHRASE in zh["footer"] and kb.office.short_contact("zh") in zh["footer"]
    text, en = tips.tip_message(kb, day, "en")
    if kb.entries[kb_id].answer_en:
        assert en["lang"] == "en" and PENDING_PHRASE_EN in en["footer"]
        assert kb.office.short_contact("en") in en["footer"] and POLICY_NOTE_EN not in text
    else:
        assert en["lang"] == "zh" and en["footer"] == zh["footer"]


def test_telegram_shows_a_tips_footer_once_as_one_italic_line_before_the_sources(kb):
    day = _day(kb, pending=True)
    text, payload = tips.tip_message(kb, day, "zh")
    [message] = telegram.render_outbox("tip", text, payload)
    line = f"<i>{payload['footer']}</i>"
    assert message.text.count(PENDING_PHRASE) == 1 + text.count(PENDING_PHRASE)
    assert line in message.text and message.text.index(line) < message.text.index("依据：")
    assert "\n" not in payload["footer"]


def test_wechat_shows_a_tips_footer_as_one_line(kb):
    day = _day(kb, pending=False)
    text, payload = tips.tip_message(kb, day, "zh")
    shown = "\n\n".join(wechat.render_outbox("tip", text, payload))
    assert payload["footer"] in shown.split("\n\n")
    assert shown.count(POLICY_NOTE_ZH) == 1
