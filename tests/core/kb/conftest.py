"""The dense-index tests start from the vectors `make kb` already computed.

core.kb.dense keeps every KB text's vector it has seen in the process (`_known`) and encodes only
the others. Loading the action server's own index once — a read of var/cache/kb-dense-<hash>.npy,
named by the hash of exactly these texts — lets test_ranker's fresh `DenseIndex(kb, tmp_path)`
reuse them instead of encoding the whole KB again in each pytest-xdist worker (3 minutes on a
busy 2-core machine). The ranking and caching assertions are unchanged; queries are still
encoded. Without the cache file this builds it (what the first dense test would have done).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session", autouse=True)
def _kb_vectors_from_the_cache(kb):
    from core.kb import dense

    examples = dense.load_examples(ROOT / "data" / "nlu" / "out_of_scope.yml")
    # If the encoder cannot load, the dense tests say so themselves.
    with contextlib.suppress(Exception):
        dense.DenseIndex(kb, ROOT / "var" / "cache", examples)
