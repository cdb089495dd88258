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

HUMAN_HINT_ZH = "如需人工帮助，请发送“转人工”。"

OUT_OF_SCOPE_ZH = (
    "抱歉，这个问题不在本服务的答复范围内。我可以解答归侨侨眷权益、因私签证代办、领事认证和附加证明书、"
    "APEC商务旅行卡、邀请外国人来华、领事保护等问题。" + HUMAN_HINT_ZH
)
FALLBACK_ZH = (
    "抱歉，我没有完全理解您的问题。可以换个说法再问一次，或发送“转人工”由工作人员为您解答。"
)
# Refusals by reason (core.conversation.refusals); {contact} / {authority} are filled in.
REFUSALS = {
    "forgery": (
        "不能为伪造、变造或购买证件、文书提供任何帮助，这是违法行为。如需为真实文书办理公证、认证，"
        "我可以为您介绍正规流程。",
        "I cannot help with forging, altering or buying documents — that is against the law. If you "
        "need a genuine document notarised or legalized, I can explain the official procedure.",
    ),
    "bribery": (
        "各项业务都按规定程序办理，没有“找关系”或私下付费加快的渠道，也请不要向工作人员送礼、给钱。"
        "如对办理要求有疑问，可以问我正规流程，或发送“转人工”。",
        "Every application follows the published procedure; there is no way to speed it up through "
        "connections or extra payments, and please do not offer staff gifts or money. Ask me about "
        'the official procedure, or send "human" to reach a staff member.',
    ),
    "private_contact": (
        "不能提供工作人员或领导的私人联系方式。请通过办公室公开的电话或办事窗口联系：{contact}",
        "I cannot give out staff members' or officials' private contact details. Please use the "
        "office's public channels: {contact}",
    ),
    "other_authority": (
        "这项业务不由外事侨务办公室办理，请咨询{authority}。" + HUMAN_HINT_ZH,
        "This is not handled by the Foreign and Overseas Chinese Affairs Office; please contact "
        '{authority}. To reach a staff member, send "human".',
    ),
}
OUT_OF_SCOPE_EN = (
    "Sorry, this is outside what this service answers. I can help with the rights of returned "
    "overseas Chinese and their relatives, the private visa agency service, consular legalization "
    "and apostilles, the APEC business travel card, inviting foreigners to China and consular "
    'protection. To reach a staff member, send "human".'
)
SUGGEST_ZH = "您是不是想问下面的问题？请点选，或换个说法再问。"
UNAVAILABLE_ZH = "服务暂时不可用，请稍后再试。您的留言已记录，工作人员会尽快处理。"


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
