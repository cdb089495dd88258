"""Run the purge: once (`python -m core.retention purge`) or daily inside the api."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from sqlalchemy.engine import make_url

from core.db.engine import build_engine, get_engine, session_factory, session_scope
from core.retention.purge import Periods, log_counts, purge_app, purge_tracker
from core.settings import Settings

logger = logging.getLogger(__name__)
FIRST_RUN_AFTER_S = 300.0  # let a starting api settle before the first purge


def run_purge(settings: Settings, now: dt.datetime | None = None) -> dict[str, int]:
    """Purge the app database and Rasa's tracker store; log and return the counts."""
    now = now or dt.datetime.now(dt.UTC)
    periods = Periods.from_settings(settings)
    with session_scope(session_factory(get_engine(settings.database_url))) as session:
        counts = purge_app(session, now, periods)
    counts["tracker_events"] = _purge_tracker_store(settings.tracker_store_url, now, periods)
    log_counts(counts)
    return counts


def _purge_tracker_store(url: str, now: dt.datetime, periods: Periods) -> int:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return 0  # Rasa never ran with this store
    engine = build_engine(url)
    try:
        return purge_tracker(engine, now, periods.tracker)
    finally:
        engine.dispose()


def start_retention_job(settings: Settings) -> asyncio.Task[None] | None:
    """Purge every RETENTION_INTERVAL_S (first after a few minutes); None when it is 0. Every
    replica may run it: deleting what is expired twice deletes nothing the second time."""
    if settings.retention_interval_s <= 0:
        return None

    async def loop() -> None:
        await asyncio.sleep(min(FIRST_RUN_AFTER_S, settings.retention_interval_s))
        while True:
            try:
                await asyncio.to_thread(run_purge, settings)
            except Exception as exc:  # the next day tries again; the api keeps serving
                logger.error(
                    "retention_failed",
                    extra={"event": "retention_failed", "error": type(exc).__name__},
                )
            await asyncio.sleep(settings.retention_interval_s)

    return asyncio.get_running_loop().create_task(loop(), name="retention")
