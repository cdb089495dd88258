"""Shared fixtures: settings, the real KB, migrated databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import build_engine, session_factory
from core.db.migrate import upgrade
from core.kb import KnowledgeBase, load_kb
from core.settings import Settings
from tests.factories import WIDGET_SECRET

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# One schema per pytest process: several test runs may share the server at the same time.
PG_SCHEMA = f"qiaowu_test_{os.getpid()}"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The real knowledge base."""
    return load_kb(ROOT / "kb")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database in tmp_path (the embedded default, as in make run)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return url


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    """Settings for tests: the temporary SQLite database, the real KB."""
    return Settings(
        _env_file=None,
        app_env="test",
        database_url=sqlite_url,
        kb_dir=ROOT / "kb",
        widget_session_secret=WIDGET_SECRET,
    )


@pytest.fixture
def sessions(sqlite_url: str) -> sessionmaker[Session]:
    """Session factory on the temporary SQLite database."""
    return session_factory(build_engine(sqlite_url))


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose private schema is migrated to head (fresh each run, dropped
    afterwards)."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    admin.dispose()
    url = f"{PG_URL}?options=-csearch_path%3D{PG_SCHEMA}"
    upgrade(url)
    yield url
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A session on SQLite or PostgreSQL whose work is rolled back after the test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'repo.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_url")
    engine = build_engine(url)
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()
        engine.dispose()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis (a database of its own); an error in CI when missing, else a skip."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI but not reachable at {REDIS_URL}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
async def telegram():
    """A fake Telegram Bot API server on 127.0.0.1 recording every call."""
    from tests.fake_telegram import FakeTelegram

    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def tg_settings(settings: Settings) -> Settings:
    """Settings with a fast outbox loop for bot tests."""
    return settings.model_copy(update={"telegram_outbox_interval_s": 0.05})
