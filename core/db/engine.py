"""The process's only engine and session factory (built on first use, never at import)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The app database cannot be reached; callers answer politely and keep the message."""


def build_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout. Statement parameters
    (message text, hashes) never appear in SQLAlchemy's errors or logs (hide_parameters)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


@lru_cache(maxsize=4)
def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    return build_engine(url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose objects stay usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def configured_sessions() -> sessionmaker[Session]:
    """A session factory on DATABASE_URL (command lines; the engine is shared per process)."""
    return session_factory(get_engine(get_settings().database_url))


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


async def in_transaction(sessions: sessionmaker[Session], fn: Callable[..., T], *args: Any) -> T:
    """`fn(session, *args)` in a worker thread; committed when it returns, rolled back on error."""

    def run() -> T:
        with session_scope(sessions) as session:
            return fn(session, *args)

    return await asyncio.to_thread(run)
