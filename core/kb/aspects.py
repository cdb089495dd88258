"""Which aspect of a topic a bare follow-up asks about ("那费用呢", "what about the cost?", "要帶啲咩
文件去？"), and which entry of the topic covers it, read from the entries' titles.

A follow-up that names nothing but an aspect leans entirely on the conversation: after an answer
about the APEC card, "what about the cost?" is the APEC card's fee entry even though BM25 and the
encoder find "cost" nearer the visa agency's fees. The KB's titles say what each entry covers
("APEC商务旅行卡的费用怎么交？进度怎么查？" / "How are ABTC fees paid …"), so no list of entries
is kept here: a new entry titled for its aspect is found the same way.

Pure Python (stdlib + core.text).
"""

from __future__ import annotations

import re

from core.text import normalize

# aspect → (what a citizen's message says, what an entry's title says)
ASPECTS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "fees": (
        re.compile(
            r"多少钱|费用|收费|价钱|价格|几多钱|交钱|付钱|付款|缴费|交费|\bcost|\bfees?\b|\bprice|\bpay\b|\bcharge"
        ),
        re.compile(r"费用|多少钱|收费|\bfees?\b|\bcost"),
    ),
    "time": (
        re.compile(
            r"多久|几天|几耐|多长时间|要等|得等|等几|几时|\bhow long\b|\bhow many (days|weeks)\b|\bhow soon\b|"
            r"\bhow quick"
        ),
        re.compile(r"多久|时限|\bhow long\b"),  # not "时间": 办公时间 is the office's hours
    ),
    "documents": (
        re.compile(
            r"材料|资料|文件|证件|带(什么|啥|啲咩|咩|些什么)|\bdocuments?\b|\bpapers\b|\bbring\b|\bpaperwork\b"
        ),
        re.compile(r"材料|带什么|\bdocuments\b|\bbring\b"),
    ),
    "eligibility": (
        re.compile(
            r"谁可以|什么人(可以|能)|条件|资格|符合|\beligib|\bqualif|\bwho (can|may|is allowed)"
        ),
        re.compile(r"谁可以|条件|资格|\beligib|\bqualif|\bwho (may|can|is)"),
    ),
    "where": (
        re.compile(
            r"在哪里|在哪儿|去哪里|去哪儿|在哪|去哪|哪里|哪儿|边度|喺边|怎么申请|点样申请|流程|\bwhere\b|\bhow (do|can|should) (i|we) apply\b|"
            r"\bprocess\b|\bsteps\b"
        ),
        re.compile(r"在哪|去哪|哪里|怎么申请|怎么办理|流程|\bwhere\b|\bhow to apply\b|\bprocess\b"),
    ),
}

# What is left of a bare follow-up once its aspect words are gone: openers, particles, pronouns.
_FILLER_CJK = set(
    "那么呢吗啊呀吧的了要还得一般大概我们你他她它需请问这个怎么是多少给谁去交付在办个些和跟同也都就可以能会样啲咩嘅喺噶呃哦嗯又再先拿到取领出来好申"
)
_FILLER_EN = frozenset(
    [
        "and",
        "so",
        "then",
        "what",
        "about",
        "how",
        "is",
        "are",
        "the",
        "a",
        "an",
        "it",
        "that",
        "this",
        "do",
        "does",
        "did",
        "we",
        "i",
        "you",
        "they",
        "them",
        "to",
        "for",
        "of",
        "usually",
        "normally",
        "roughly",
        "much",
        "many",
        "long",
        "who",
        "where",
        "which",
        "whom",
        "pay",
        "please",
        "also",
        "would",
        "will",
        "should",
        "can",
        "could",
        "me",
        "my",
        "our",
        "us",
        "there",
        "take",
        "takes",
        "get",
    ]
)
_WORD_RE = re.compile(r"[a-z']+|[\u4e00-\u9fff]")


def asked_aspect(text: str) -> str | None:
    """The one aspect a message asks about when it names nothing else, or None."""
    plain = normalize(text).lower()
    found = [name for name, (said, _) in ASPECTS.items() if said.search(plain)]
    if len(found) != 1:
        return None
    said = ASPECTS[found[0]][0]
    rest = said.sub(" ", plain)
    for token in _WORD_RE.findall(rest):
        if token.isascii():
            if token not in _FILLER_EN:
                return None
        elif token not in _FILLER_CJK:
            return None
    return found[0]


def covers(title: str, title_en: str | None, aspect: str) -> bool:
    """Whether an entry's titles say it covers the aspect."""
    pattern = ASPECTS[aspect][1]
    return bool(
        pattern.search(normalize(title).lower()) or pattern.search((title_en or "").lower())
    )
