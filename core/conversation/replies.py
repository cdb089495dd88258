"""The reply contract: `custom` payload builders and the fixed texts citizens read.

Every bot turn carries one payload (see design "Reply contract"); channels render it and
tests assert on it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from core.kb.answers import answer_text
from core.kb.loader import KnowledgeBase
from core.texts import t

Payload = dict[str, Any]

# Every `custom.type` a bot turn may carry: design.md "Reply contract", plus the relay's own
# (`in_ticket` while staff have the conversation, `office_hours` after hours, `unavailable` when
# a message was parked for staff). Metrics label by these; the fuzzer and tests check replies.
PAYLOAD_TYPES = frozenset(
    {
        "kb_answer", "suggestions", "out_of_scope", "fallback", "emergency",
        "status_prompt", "status", "status_denied", "status_unavailable", "status_cancelled",
        "subscription", "handoff", "handoff_unavailable", "greeting", "goodbye", "thanks",
        "in_ticket", "office_hours", "unavailable",
    }
)  # fmt: skip

# The fixed texts come from the catalogue (core/texts, keys `reply.*`).
REFUSAL_REASONS = ("forgery", "bribery", "private_contact", "other_authority")


def refusal_template(reason: str | None, lang: str) -> str | None:
    """The firm refusal's text for a reason (with `{contact}`/`{authority}` to fill), or None
    when the reason has none of its own (the general out-of-scope reply)."""
    return t(f"reply.refusal_{reason}", lang) if reason in REFUSAL_REASONS else None


def kb_answer(kb: KnowledgeBase, kb_id: str, lang: str = "zh") -> tuple[str, Payload]:
    """Answer text and `kb_answer` payload for one entry."""
    entry = kb.entries[kb_id]
    text, english = answer_text(kb, kb_id, lang)
    follow_up = [fid for fid in entry.follow_up if fid in kb.entries]
    payload: Payload = {
        "type": "kb_answer",
        "kb_id": kb_id,
        "topic": entry.topic,
        "title": entry.title_en if english and entry.title_en else entry.title,
        "lang": "en" if english else "zh",
        "sources": [{"title": s.title, "url": str(s.url)} for s in entry.sources],
        "last_reviewed": entry.last_reviewed.isoformat(),
        "follow_up": follow_up,
        "options": [{"kb_id": fid, "title": option_title(kb, fid, english)} for fid in follow_up],
    }
    return text, payload


def option_title(kb: KnowledgeBase, kb_id: str, english: bool) -> str:
    """A button's title: the English one for an English speaker when the entry has it (the
    button sends it back as the question; the Chinese title switched the chat to Chinese)."""
    entry = kb.entries[kb_id]
    return entry.title_en if english and entry.title_en else entry.title


def suggestions(kb: KnowledgeBase, kb_ids: list[str], lang: str = "zh") -> tuple[str, Payload]:
    """Did-you-mean text and payload."""
    english = lang == "en"
    options = [
        {"kb_id": k, "title": option_title(kb, k, english)} for k in kb_ids if k in kb.entries
    ]
    return t("reply.suggestions", "en" if english else "zh"), {
        "type": "suggestions",
        "options": options,
    }


_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def looks_english(text: str) -> bool:
    """True for a message in Latin letters with no Chinese characters ("APOSTILLE是什么" is Chinese)."""
    if _CJK_RE.search(text):
        return False
    letters = [c for c in unicodedata.normalize("NFKC", text) if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) / len(letters) > 0.7
