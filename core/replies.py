"""The reply contract: `custom` payload builders and the fixed texts citizens read.

Every bot turn carries one payload (see design "Reply contract"); channels render it and
tests assert on it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from core.kb.loader import KnowledgeBase

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

POLICY_NOTE_ZH = "政策可能调整，以最新公告为准。"
POLICY_NOTE_EN = "Policies may change; the latest official notice prevails."
HUMAN_HINT_ZH = "如需人工帮助，请发送“转人工”。"

OUT_OF_SCOPE_ZH = (
    "抱歉，这个问题不在本服务的答复范围内。我可以解答归侨侨眷权益、因私签证代办、领事认证和附加证明书、"
    "APEC商务旅行卡、邀请外国人来华、领事保护等问题。" + HUMAN_HINT_ZH
)
FALLBACK_ZH = (
    "抱歉，我没有完全理解您的问题。可以换个说法再问一次，或发送“转人工”由工作人员为您解答。"
)
SUGGEST_ZH = "您是不是想问下面的问题？请点选，或换个说法再问。"
UNAVAILABLE_ZH = "服务暂时不可用，请稍后再试。您的留言已记录，工作人员会尽快处理。"


def kb_answer(kb: KnowledgeBase, kb_id: str, lang: str = "zh") -> tuple[str, Payload]:
    """Answer text and `kb_answer` payload for one entry."""
    entry = kb.entries[kb_id]
    english = lang == "en" and bool(entry.answer_en)
    text = kb.answer(kb_id, "en" if english else "zh")
    text += "\n\n" + (POLICY_NOTE_EN if english else POLICY_NOTE_ZH)
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
        "options": [{"kb_id": fid, "title": kb.entries[fid].title} for fid in follow_up],
    }
    return text, payload


def suggestions(kb: KnowledgeBase, kb_ids: list[str]) -> tuple[str, Payload]:
    """Did-you-mean text and payload."""
    options = [{"kb_id": k, "title": kb.entries[k].title} for k in kb_ids if k in kb.entries]
    return SUGGEST_ZH, {"type": "suggestions", "options": options}


_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def looks_english(text: str) -> bool:
    """True for a message in Latin letters with no Chinese characters ("APOSTILLE是什么" is Chinese)."""
    if _CJK_RE.search(text):
        return False
    letters = [c for c in unicodedata.normalize("NFKC", text) if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) / len(letters) > 0.7
