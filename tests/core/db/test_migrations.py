"""Alembic builds the schema from empty, and the models match it (alembic check)."""

from __future__ import annotations

import pytest
from alembic import command

from core.db.migrate import alembic_config, upgrade


def test_sqlite_upgrade_to_head_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.check(alembic_config(url))


@pytest.mark.pg
def test_postgresql_upgrade_to_head_matches_models(pg_url):
    command.check(alembic_config(pg_url))


def test_migrate_command_upgrades_the_configured_database(tmp_path):
    import os
    import subprocess
    import sys

    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    subprocess.run(
        [sys.executable, "-m", "core.db", "upgrade"],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
        timeout=120,
    )
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"cases", "handoff_tickets", "outbox", "alembic_version"} <= tables
