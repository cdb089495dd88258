"""Back-off shared by the messaging apps: how long to wait before trying again."""

from __future__ import annotations


def backoff_s(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential back-off: `base_s` · 2^attempt seconds, at most `max_s`."""
    return min(base_s * 2.0**attempt, max_s)


def wait_for_retry_after(retry_after_s: float, attempt: int, retries: int, max_s: float) -> bool:
    """True when a "retry after N seconds" answer is worth waiting for."""
    return attempt < retries and retry_after_s <= max_s
