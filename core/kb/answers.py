"""How a KB answer reads to citizens: the entry's body in their language, and the one-line
footer (policy or 待核实 note, office contact) that every channel shows under it."""

from __future__ import annotations

from core.kb.loader import KnowledgeBase


def is_english(kb: KnowledgeBase, kb_id: str, lang: str = "zh") -> bool:
    """True when the entry is shown in English: asked for and the entry has an English answer."""
    return lang == "en" and bool(kb.entries[kb_id].answer_en)


def answer_text(kb: KnowledgeBase, kb_id: str, lang: str = "zh") -> tuple[str, bool]:
    """(answer body, whether it is the English version).

    The body leads with the answer; the policy note and the office contact are not part of it:
    channels show them once, from the payload's `footer` (see `footer_fields`).
    """
    english = is_english(kb, kb_id, lang)
    return kb.answer(kb_id, "en" if english else "zh"), english


def footer_fields(kb: KnowledgeBase, kb_id: str, lang: str = "zh") -> dict[str, str]:
    """The payload's `footer` (one short line) and, when the office has a website, `footer_url`."""
    fields = {"footer": kb.footer(kb_id, "en" if is_english(kb, kb_id, lang) else "zh")}
    if kb.office.website_url is not None:
        fields["footer_url"] = str(kb.office.website_url)
    return fields
