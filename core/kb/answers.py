"""How a KB answer reads to citizens: the entry's text in their language, then the policy note."""

from __future__ import annotations

from core.kb.loader import KnowledgeBase
from core.kb.schema import POLICY_NOTE_EN, POLICY_NOTE_ZH


def answer_text(kb: KnowledgeBase, kb_id: str, lang: str = "zh") -> tuple[str, bool]:
    """(answer text with the policy note, whether it is the English version)."""
    english = lang == "en" and bool(kb.entries[kb_id].answer_en)
    note = POLICY_NOTE_EN if english else POLICY_NOTE_ZH
    return f"{kb.answer(kb_id, 'en' if english else 'zh')}\n\n{note}", english
