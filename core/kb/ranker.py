"""Decide which KB entry answers a question, combining the NLU's ResponseSelector ranking with
BM25 over the KB text. Either signal alone is weak (see design "What is known"); agreement,
or one clearly confident signal, is required before answering outright.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.kb.search import Hit

Decision = Literal["answer", "suggest", "fallback"]


@dataclass(frozen=True)
class Thresholds:
    selector_answer: float = 0.5  # ResponseSelector confidence that answers on its own
    bm25_answer: float = 0.45  # BM25 score (0..1) that answers on its own …
    bm25_margin: float = 0.1  # … when this far ahead of the runner-up
    suggest: float = 0.2  # below this on both signals: honest fallback


@dataclass(frozen=True)
class Ranking:
    decision: Decision
    kb_ids: list[str]  # the answer first, or up to 3 suggestions


def rank(
    selector: list[tuple[str, float]],
    bm25: list[Hit],
    thresholds: Thresholds = Thresholds(),
    exact: str | None = None,
) -> Ranking:
    """Combine the selector's (kb_id, confidence) ranking with BM25 hits.

    `exact` is the entry that lists the question verbatim, if any: it answers outright.
    """
    if exact is not None:
        return Ranking("answer", [exact])
    top_sel, sel_conf = selector[0] if selector else (None, 0.0)
    top_bm, bm_score = (bm25[0].kb_id, bm25[0].score) if bm25 else (None, 0.0)
    runner_up = bm25[1].score if len(bm25) > 1 else 0.0
    if top_sel is not None and top_sel == top_bm and max(sel_conf, bm_score) >= thresholds.suggest:
        return Ranking("answer", [top_sel])
    if (
        top_bm is not None
        and bm_score >= thresholds.bm25_answer
        and bm_score - runner_up >= thresholds.bm25_margin
    ):
        return Ranking("answer", [top_bm])
    if top_sel is not None and sel_conf >= thresholds.selector_answer:
        return Ranking("answer", [top_sel])
    candidates: list[str] = []
    pairs = sorted(
        [(c, k) for k, c in selector[:3] if c >= thresholds.suggest]
        + [(h.score, h.kb_id) for h in bm25[:3] if h.score >= thresholds.suggest],
        reverse=True,
    )
    for _, kb_id in pairs:
        if kb_id not in candidates:
            candidates.append(kb_id)
    if candidates:
        return Ranking("suggest", candidates[:3])
    return Ranking("fallback", [])
