"""Option buttons in the citizen's language (core.conversation.replies)."""

from __future__ import annotations

from core.conversation import replies
from core.kb.search import BM25Index


def test_english_speakers_get_english_option_titles_that_match_exactly(kb):
    kb_id = next(k for k, e in kb.entries.items() if e.title_en and e.follow_up)
    _, zh = replies.kb_answer(kb, kb_id, "zh")
    _, en = replies.kb_answer(kb, kb_id, "en")
    assert [o["kb_id"] for o in en["options"]] == [o["kb_id"] for o in zh["options"]]
    for option in en["options"]:
        entry = kb.entries[option["kb_id"]]
        assert option["title"] == (entry.title_en or entry.title)
    text, suggested = replies.suggestions(kb, [kb_id], "en")
    assert suggested["options"][0]["title"] == kb.entries[kb_id].title_en
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text)
    # the button sends the title back: it is answered as that entry's own question
    assert BM25Index(kb).exact(kb.entries[kb_id].title_en) == kb_id


def test_card_buttons_follow_the_turns_language():
    from core.conversation.rasa_client import BotMessage
    from core.conversation.render import card

    english = card(
        BotMessage("Your application VA-2026-000123 is being processed.", {"type": "status"})
    )
    assert english.title == "📋 Application status" and english.rows[0][0].label == "Talk to staff"
    chinese = card(BotMessage("您的申请正在办理中。", {"type": "status"}))
    assert chinese.rows[0][0].label == "转人工"
    fallback = card(BotMessage("Sorry, I did not understand.", {"type": "fallback"}))
    assert fallback.rows[0][0].label == "Talk to staff"
