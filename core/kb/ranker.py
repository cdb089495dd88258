"""Decide which KB entry answers a question by fusing three signals:

- the NLU's ResponseSelector ranking (confidence 0..1),
- BM25 over the KB text (core.kb.search, score roughly 0..1),
- dense similarity to the KB questions (core.kb.dense, cosine; rescaled above `dense_floor`).

Each alone is weak (design "What is known"; docs/eval.md), their weighted sum is not. A message
that none of the signals places near the KB (and whose fused score stays low) is refused before
any answer is considered, as is one nearer to an out-of-scope example than to any KB question;
then the fused score must clear `answer` with a `margin` over the runner-up to answer; otherwise
up to three did-you-mean suggestions above `suggest`; otherwise an honest fallback. When at least
`agree_signals` of the individual signals rank the fused best entry first, they corroborate each
other and the smaller `agree_margin` is enough: close siblings ("what the embassy can do" / "cannot
do") often score within 0.2 of each other although every signal picks the same one. The weights
and thresholds were chosen on the tune split of tests/eval/dev_set.yml (`scripts/eval.py --tune`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.kb.search import Hit

Decision = Literal["answer", "suggest", "fallback"]


@dataclass(frozen=True)
class Thresholds:
    # Re-tuned on the tune split after the ResponseSelector left the NLU (its signal is now
    # absent: the fused score is BM25 + dense, so the bars are lower than the 0.6/0.15 before).
    answer: float = 0.45  # fused score that answers outright …
    margin: float = 0.1  # … when this far ahead of the runner-up (see agree_margin)
    suggest: float = 0.4  # fused score that is worth a did-you-mean option
    w_selector: float = 0.3  # kept for a pipeline that has a selector (none today)
    w_bm25: float = 0.3
    w_dense: float = 1.0
    dense_floor: float = 0.88  # cosine below this counts as no similarity at all
    # Out-of-domain gate: refuse when every signal is below its bar.
    gate_dense: float = 0.93
    gate_bm25: float = 0.45
    gate_selector: float = 0.6
    # … unless their weighted sum reaches this (several moderate signals agreeing; inf: never).
    gate_fused: float = 0.4
    # Corroboration: the margin that suffices when this many signals rank the best entry first.
    agree_margin: float = 0.0
    agree_signals: int = 2
    # Near misses: refuse when the nearest out-of-scope example is at least this similar …
    negative_floor: float = 0.9
    # … and this much closer than the nearest KB question (inf: never).
    negative_margin: float = 0.0


@dataclass(frozen=True)
class Ranking:
    decision: Decision
    kb_ids: list[str]  # the answer first, or up to 3 suggestions
    score: float = 0.0  # fused score of the first id


def fused_scores(
    selector: Mapping[str, float],
    bm25: Mapping[str, float],
    dense: Mapping[str, float],
    t: Thresholds,
) -> dict[str, float]:
    """Weighted sum of the three signals for every entry any of them mentions."""
    span = max(1e-6, 1.0 - t.dense_floor)
    out = {}
    for kb_id in set(selector) | set(bm25) | set(dense):
        d = min(1.0, max(0.0, (dense.get(kb_id, 0.0) - t.dense_floor) / span))
        out[kb_id] = (
            t.w_selector * selector.get(kb_id, 0.0)
            + t.w_bm25 * bm25.get(kb_id, 0.0)
            + t.w_dense * d
        )
    return out


def _top(scores: Mapping[str, float]) -> str | None:
    """The entry a signal ranks first; None when it has none or a tie at the top."""
    best = sorted(scores.values(), reverse=True)[:2]
    if not best or (len(best) == 2 and best[0] == best[1]):
        return None
    return max(scores, key=lambda k: scores[k])


def agreement(
    kb_id: str, selector: Mapping[str, float], bm25: Mapping[str, float], dense: Mapping[str, float]
) -> int:
    """How many of the individual signals rank `kb_id` first."""
    return sum(_top(signal) == kb_id for signal in (selector, bm25, dense))


def rank(
    selector: list[tuple[str, float]],
    bm25: list[Hit],
    thresholds: Thresholds = Thresholds(),
    exact: str | None = None,
    dense: Mapping[str, float] | None = None,
    negative: float | None = None,
) -> Ranking:
    """Combine the selector's (kb_id, confidence) ranking, BM25 hits and dense scores.

    `exact` is the entry that lists the question verbatim, if any: it answers outright.
    `dense` maps kb ids to cosine similarity; None when the dense index is unavailable.
    `negative` is the cosine similarity to the nearest out-of-scope example ("身份证过期了去哪换"
    is nearer to "身份证到期了在哪里换新的" than to any passport question): such near misses
    are refused however well the KB signals score.
    """
    if exact is not None:
        return Ranking("answer", [exact], 1.0)
    t = thresholds
    sel = dict(selector)
    bm = {h.kb_id: h.score for h in bm25}
    dn = dict(dense or {})
    top_sel = max(sel.values(), default=0.0)
    top_bm = max(bm.values(), default=0.0)
    top_dn = max(dn.values(), default=0.0)
    if negative is not None and negative >= t.negative_floor and negative - top_dn >= t.negative_margin:
        return Ranking("fallback", [])
    fused = sorted(fused_scores(sel, bm, dn, t).items(), key=lambda kv: (-kv[1], kv[0]))
    weak = top_dn < t.gate_dense and top_bm < t.gate_bm25 and top_sel < t.gate_selector
    if not fused or (weak and fused[0][1] < t.gate_fused):
        return Ranking("fallback", [])
    best_id, best = fused[0]
    runner_up = fused[1][1] if len(fused) > 1 else 0.0
    margin = t.agree_margin if agreement(best_id, sel, bm, dn) >= t.agree_signals else t.margin
    if best >= t.answer and best - runner_up >= margin:
        return Ranking("answer", [best_id], round(best, 4))
    options = [kb_id for kb_id, score in fused[:3] if score >= t.suggest]
    if options:
        return Ranking("suggest", options, round(best, 4))
    return Ranking("fallback", [], round(best, 4))
