"""A response selector trained in the action server: softmax regression over the dense vectors of
the KB's questions (core.kb.dense), one class per entry plus `out_of_scope` for the out-of-scope
examples the index embeds as negatives.

The Rasa pipeline lost its ResponseSelector for issue 19 (KB edits live without retraining), and
with it the one signal that learns what tells siblings apart: the dense signal is the best single
question's cosine, BM25 counts words. This classifier learns a direction per entry from all of
its questions at once, costs about a second to train on the vectors the index holds anyway, and
is retrained whenever the KB is reloaded, so it keeps the "no retraining" promise. Its ranking
fills the ranker's selector slot (core.kb.ranker); its `out_of_scope` probability refuses near
misses that no single negative example is close enough to catch.

Chosen by scripts/tune_loo.py (each fold's classifier trained without the questions it is then
asked; tune splits only): see core.kb.ranker.Thresholds.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)
OUT_OF_SCOPE = "out_of_scope"
CACHE_VERSION = "softmax-1"  # bump when train() or its defaults change


@dataclass(frozen=True)
class Selector:
    labels: tuple[str, ...]
    weights: np.ndarray  # (dimensions, classes)
    bias: np.ndarray  # (classes,)
    scale: float

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        z = self.scale * (vector @ self.weights) + self.bias
        z = np.exp(z - z.max())
        return np.asarray(z / z.sum())

    def ranking(self, vector: np.ndarray, limit: int = 10) -> tuple[list[tuple[str, float]], float]:
        """The `limit` likeliest entries as (kb_id, probability), and the out-of-scope one."""
        p = self.probabilities(vector)
        out_of_scope = 0.0
        ranked: list[tuple[str, float]] = []
        for i in np.argsort(-p, kind="stable"):
            label = self.labels[i]
            if label == OUT_OF_SCOPE:
                out_of_scope = float(p[i])
            elif len(ranked) < limit:
                ranked.append((label, float(p[i])))
        return ranked, out_of_scope


def train(
    vectors: np.ndarray,
    labels: Sequence[str],
    *,
    l2: float = 1e-3,
    iterations: int = 300,
    rate: float = 0.05,
    scale: float = 20.0,
) -> Selector:
    """Full-batch Adam on the cross-entropy, from zero weights: deterministic for given inputs.

    `vectors` are L2-normalised rows (cosine space), `scale` the softmax temperature's inverse."""
    classes = tuple(sorted(set(labels)))
    column = {label: i for i, label in enumerate(classes)}
    x = np.asarray(vectors, dtype=np.float32)
    y = np.zeros((len(labels), len(classes)), dtype=np.float32)
    y[np.arange(len(labels)), [column[label] for label in labels]] = 1.0
    weights = np.zeros((x.shape[1], len(classes)), dtype=np.float32)
    bias = np.zeros(len(classes), dtype=np.float32)
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in (weights, bias)]
    for step in range(1, iterations + 1):
        z = scale * (x @ weights) + bias
        z = np.exp(z - z.max(axis=1, keepdims=True))
        error = (z / z.sum(axis=1, keepdims=True) - y) / max(1, len(labels))
        grads = (scale * (x.T @ error) + l2 * weights, error.sum(axis=0))
        for param, grad, (m, v) in zip((weights, bias), grads, moments, strict=True):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return Selector(classes, weights, bias, scale)


def trained(cache_dir: Path | None, vectors: np.ndarray, labels: Sequence[str]) -> Selector:
    """`train` on these inputs, from `cache_dir/kb-selector-<hash of the inputs>.npz` when an
    earlier process trained it already (a second start costs no training), else trained and
    written there; a cache that cannot be read or written is ignored."""
    digest = hashlib.sha256()
    digest.update(CACHE_VERSION.encode())
    digest.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    digest.update("\n".join(labels).encode("utf-8"))
    path = cache_dir / f"kb-selector-{digest.hexdigest()[:16]}.npz" if cache_dir else None
    if path is not None and path.exists():
        try:
            with np.load(path) as saved:
                return Selector(
                    tuple(str(label) for label in saved["labels"]),
                    saved["weights"],
                    saved["bias"],
                    float(saved["scale"]),
                )
        except (OSError, ValueError, KeyError):
            pass
    selector = train(vectors, labels)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(
                tmp,
                labels=np.array(selector.labels),
                weights=selector.weights,
                bias=selector.bias,
                scale=np.float32(selector.scale),
            )
            tmp.replace(path)
        except OSError:
            logger.warning(
                "selector_cache_not_written", extra={"event": "selector_cache_not_written"}
            )
    return selector
