"""Process-wide cached resources built on first use (never at import)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import get_engine, session_factory
from core.kb.dense import DenseIndex, get_dense
from core.kb.loader import KnowledgeBase, load_kb
from core.kb.search import BM25Index
from core.settings import get_settings


@lru_cache(maxsize=1)
def get_kb() -> KnowledgeBase:
    """The knowledge base from KB_DIR, validated."""
    return load_kb(get_settings().kb_dir)


@lru_cache(maxsize=1)
def get_index() -> BM25Index:
    """BM25 index over the knowledge base."""
    return BM25Index(get_kb())


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
