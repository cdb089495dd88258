"""BM25 search over KB entries (title, questions and answer), jieba tokens plus char bigrams.

Used for "did you mean" suggestions below the NLU confidence threshold. A dense retriever can
sit behind the same `search()` interface later.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.kb.loader import KnowledgeBase
from core.text import normalize

_WORD_RE = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")
_STOP = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "么",
        "是",
        "我",
        "你",
        "要",
        "在",
        "有",
        "和",
        "怎么",
        "什么",
        "如何",
        "请问",
        "一下",
        "可以",
        "能",
        "the",
        "a",
        "an",
        "to",
        "of",
        "is",
        "do",
        "i",
        "my",
        "for",
        "how",
        "what",
    ]
)


@lru_cache(maxsize=1)
def _jieba() -> Any:  # jieba ships no type information: the module is Any
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokens(text: str) -> list[str]:
    """Search tokens: jieba words and Chinese character bigrams of the normalised text."""
    text = normalize(text).lower()
    out: list[str] = []
    for chunk in _WORD_RE.findall(text):
        if chunk.isascii():
            out.append(chunk)
            continue
        out.extend(w for w in _jieba().lcut(chunk) if w.strip())
        out.extend(chunk[i : i + 2] for i in range(len(chunk) - 1))
    return [t for t in out if t not in _STOP]


# A pasted letter is searched by its first and last QUERY_EDGE characters: where a citizen puts
# the question (after a greeting, or after the story). The cost of a query then stops growing
# with the message (docs/benchmarks.md, "Long messages"); no blind-set text is longer than 2 × it.
QUERY_EDGE = 200


def query_window(text: str) -> str:
    """The text, or its start and end when it is longer than 2 × QUERY_EDGE."""
    if len(text) <= 2 * QUERY_EDGE:
        return text
    return text[:QUERY_EDGE] + "\n" + text[-QUERY_EDGE:]


@dataclass(frozen=True)
class Hit:
    kb_id: str
    score: float  # BM25 score divided by the query's self-score proxy: roughly 0..1


_PUNCT_RE = re.compile(r"[^\w]+")


def question_key(text: str) -> str:
    """A question reduced for exact matching: normalised, lower-case, no punctuation/spaces."""
    return _PUNCT_RE.sub("", normalize(text).lower())


class BM25Index:
    """Okapi BM25 over one document per KB entry, plus exact matching of listed questions."""

    def __init__(self, kb: KnowledgeBase, k1: float = 1.5, b: float = 0.75):
        self.ids: list[str] = []
        self.docs: list[Counter[str]] = []
        self.questions: dict[str, str] = {}
        for kb_id in sorted(kb.entries):
            entry = kb.entries[kb_id]
            # the English title too: an English speaker's button sends it back
            for question in [entry.title, entry.title_en or "", *entry.questions]:
                if question:
                    self.questions.setdefault(question_key(question), kb_id)
            text = " ".join([entry.title, *entry.questions, entry.answer, entry.title_en or ""])
            self.ids.append(kb_id)
            self.docs.append(Counter(tokens(text)))
        self.k1, self.b = k1, b
        self.avgdl = sum(sum(d.values()) for d in self.docs) / max(1, len(self.docs))
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        # term → [(entry index, the term's BM25 weight in that entry)]: a query costs its
        # distinct terms' postings, not entries × query length (a pasted letter has hundreds).
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, doc in enumerate(self.docs):
            dl = sum(doc.values())
            for term, tf in doc.items():
                norm = tf + k1 * (1 - b + b * dl / self.avgdl)
                self.postings.setdefault(term, []).append(
                    (i, self.idf[term] * tf * (k1 + 1) / norm)
                )

    def _scores(self, query: list[str]) -> list[float]:
        """Each entry's BM25 score; a term the query repeats counts as often as it occurs."""
        scores = [0.0] * len(self.ids)
        for term, count in Counter(query).items():
            for i, weight in self.postings.get(term, ()):
                scores[i] += count * weight
        return scores

    def exact(self, text: str) -> str | None:
        """The entry listing exactly this question (ignoring script, width and punctuation)."""
        key = question_key(text)
        return self.questions.get(key) if key else None

    def search(self, text: str, limit: int = 3) -> list[Hit]:
        """Best entries for the text, scores scaled to roughly 0..1 (a long text by its start
        and end: `query_window`)."""
        query = tokens(query_window(text))
        if not query:
            return []
        ceiling = sum(self.idf.get(t, 0.0) for t in query) * (self.k1 + 1) or 1.0
        scored = list(zip(self._scores(query), self.ids, strict=True))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [Hit(kb_id, round(s / ceiling, 4)) for s, kb_id in scored[:limit] if s > 0]
