"""Production stores for Rasa derived from DATABASE_URL and REDIS_URL (scripts/stack.py)."""

from __future__ import annotations

import pytest

from scripts.stack import rasa_store_env


def test_store_environment_is_derived_from_the_app_urls():
    env = rasa_store_env(
        "postgresql+psycopg://qiaowu:s3cret@db.internal:5433/qiaowu",
        "redis://:pw@redis.internal:6380/2",
        action_port=5055,
    )
    assert env == {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "TRACKER_DB_URL": "postgresql://qiaowu:s3cret@db.internal:5433/qiaowu",
        "TRACKER_DB_NAME": "qiaowu",
        "REDIS_HOST": "redis.internal",
        "REDIS_PORT": "6380",
        "REDIS_DB": "2",
        "REDIS_PASSWORD": "pw",
        "REDIS_LOCK_PREFIX": "qiaowu",
    }


def test_a_separate_tracker_database_and_redis_defaults():
    env = rasa_store_env(
        "postgresql://app@db/app",
        "redis://127.0.0.1",
        action_port=6000,
        tracker_database_url="postgresql://rasa@db2/tracker",
    )
    assert env["TRACKER_DB_URL"] == "postgresql://rasa@db2/tracker"
    assert (env["REDIS_PORT"], env["REDIS_DB"], env["REDIS_PASSWORD"]) == ("6379", "1", "")


@pytest.mark.parametrize(
    "database_url, redis_url, message",
    [
        ("sqlite:///var/app.db", "redis://localhost/1", "postgresql"),
        ("postgresql://app@db/app", None, "REDIS_URL is required"),
        ("postgresql://app@db/app", "http://localhost:6379", "redis://"),
    ],
)
def test_unusable_combinations_are_named(database_url, redis_url, message):
    with pytest.raises(ValueError, match=message):
        rasa_store_env(database_url, redis_url, action_port=5055)


def test_lock_prefix_must_be_alphanumeric():
    # Rasa silently ignores other prefixes, which would mix deployments sharing one Redis.
    with pytest.raises(ValueError, match="letters and digits"):
        rasa_store_env("postgresql://a@b/c", "redis://r", action_port=1, lock_prefix="qw:prod")
