"""The process's only engine and session factory (built on first use, never at import)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Executable, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

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
        def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
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


def affected_rows(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session and return how many rows it changed."""
    # A DML statement's result is a CursorResult (it has rowcount); Session.execute is typed
    # with the general Result.
    result = cast("CursorResult[Any]", session.execute(statement))
    return int(result.rowcount or 0)


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
