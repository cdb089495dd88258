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
