"""Run a short database function off the event loop, in its own transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import session_scope

T = TypeVar("T")


async def in_transaction(sessions: sessionmaker[Session], fn: Callable[..., T], *args: Any) -> T:
    """`fn(session, *args)` in a worker thread; committed when it returns, rolled back on error."""

    def run() -> T:
        with session_scope(sessions) as session:
            return fn(session, *args)

    return await asyncio.to_thread(run)
