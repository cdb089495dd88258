"""Process-wide cached resources built on first use (never at import).

The knowledge base is live: `get_kb()` notices an edited kb/ (a stat of its files, at most every
`KB_RELOAD_S` seconds) and swaps in the new KB — with its BM25 and dense indexes, re-embedding
only the texts that changed — so a KB change is answered without retraining or a restart. An
edit that does not validate is refused (logged) and the previous KB keeps answering.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import get_engine, session_factory
from core.kb.dense import DenseIndex, get_dense
from core.kb.loader import KBError, KnowledgeBase, load_kb
from core.kb.search import BM25Index
from core.settings import get_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


def kb_fingerprint(kb_dir: Path) -> str:
    """Names, sizes and modification times of the KB's files (no reading: cheap to poll)."""
    digest = hashlib.sha256()
    for path in sorted(kb_dir.rglob("*.yml")):
        stat = path.stat()
        digest.update(f"{path.relative_to(kb_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class _LiveKB:
    """The current KB; reloaded when kb/ changed (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kb: KnowledgeBase | None = None
        self._fingerprint = ""
        self._checked = 0.0

    def __call__(self) -> KnowledgeBase:
        settings = get_settings()
        with self._lock:
            if self._kb is None:
                self._fingerprint = kb_fingerprint(settings.kb_dir)
                self._kb = load_kb(settings.kb_dir)  # an invalid KB at start is an error
                self._checked = time.monotonic()
            elif (
                settings.kb_reload_s > 0
                and time.monotonic() - self._checked >= settings.kb_reload_s
            ):
                self._checked = time.monotonic()
                self._reload_if_changed(settings.kb_dir)
            return self._kb

    def _reload_if_changed(self, kb_dir: Path) -> None:
        fingerprint = kb_fingerprint(kb_dir)
        if fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint  # also for a refused edit: not re-read every poll
        try:
            self._kb = load_kb(kb_dir)
        except KBError as exc:
            logger.error(
                "kb_reload_refused",
                extra={"event": "kb_reload_refused", "problems": len(exc.problems)},
            )
            return
        logger.info("kb_reloaded", extra={"event": "kb_reloaded", "entries": len(self._kb.entries)})

    def reload(self) -> KnowledgeBase:
        """Re-read kb/ now (the console's "publish", SIGHUP)."""
        with self._lock:
            self._checked = 0.0
        return self()

    def cache_clear(self) -> None:
        with self._lock:
            self._kb, self._fingerprint, self._checked = None, "", 0.0


get_kb = _LiveKB()


class _PerKB(Generic[T]):
    """A structure built from the current KB, rebuilt when the KB is reloaded."""

    def __init__(self, build: Callable[[KnowledgeBase], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._for: KnowledgeBase | None = None
        self._value: T | None = None

    def __call__(self) -> T:
        kb = get_kb()
        with self._lock:
            if self._value is None or self._for is not kb:
                self._value, self._for = self._build(kb), kb
            return self._value

    def cache_clear(self) -> None:
        with self._lock:
            self._value, self._for = None, None


get_index: _PerKB[BM25Index] = _PerKB(BM25Index)
"""BM25 index over the current knowledge base."""


def get_dense_index() -> DenseIndex | None:
    """Dense index over the KB and the out-of-scope examples; None when disabled/unavailable."""
    settings = get_settings()
    if not settings.kb_dense:
        return None
    return get_dense(get_kb(), settings.kb_cache_dir, settings.kb_negatives)


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    """Session factory for DATABASE_URL."""
    return session_factory(get_engine(get_settings().database_url))


def handoff_hours(lang: str = "zh") -> str:
    """Staff hours as the office states them (kb/office.yml); "" when the KB cannot load."""
    try:
        office = get_kb().office
    except Exception:  # the emergency reply must not depend on the KB
        return ""
    return office.handoff_hours_en if lang == "en" else office.handoff_hours


def title_en(kb_id: str) -> str | None:
    """The English title of a KB entry, for option buttons in English conversations."""
    try:
        entry = get_kb().entries.get(kb_id)
    except Exception:
        return None
    return entry.title_en if entry is not None and entry.title_en else None
