"""APP_ENV=production: the api, the action server and the bots refuse to start with a missing or
development secret (not only `make run`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import DEV_SALT, Settings, UnsafeConfiguration

ROOT = Path(__file__).resolve().parents[1]
GOOD = {
    "HASH_SALT": "h" * 32,
    "LOG_SALT": "l" * 32,
    "CONSOLE_SECRET": "c" * 32,
    "RASA_TOKEN": "r" * 32,
    "METRICS_TOKEN": "m" * 32,
    "ACTION_SERVER_SECRET": "a" * 32,
    "RASA_WEBHOOK_SECRET": "w" * 32,
}


@pytest.fixture
def office_kb(tmp_path: Path) -> Path:
    """A copy of kb/ whose office facts are marked real (production refuses example values)."""
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    office = kb / "office.yml"
    office.write_text(
        office.read_text(encoding="utf-8").replace("example: true", "example: false"),
        encoding="utf-8",
    )
    return kb


def production(office_kb: Path, **env: str) -> Settings:
    values = {k.lower(): v for k, v in {**GOOD, **env}.items() if v is not None}
    return Settings(
        _env_file=None,
        app_env="production",
        kb_dir=office_kb,
        database_url="postgresql://app@db/app",
        **values,
    )


@pytest.mark.parametrize("missing", sorted(GOOD))
def test_each_secret_is_required_in_production(office_kb, missing):
    values = {k.lower(): v for k, v in GOOD.items() if k != missing}
    settings = Settings(
        _env_file=None,
        app_env="production",
        kb_dir=office_kb,
        database_url="postgresql://app@db/app",
        **values,
    )
    # the salts default to the public development value, the others to nothing
    expected = "still has the development default" if missing.endswith("SALT") else "is not set"
    assert f"{missing} {expected}" in " | ".join(settings.problems())


def test_development_and_short_values_are_refused(office_kb):
    problems = production(office_kb, HASH_SALT=DEV_SALT, RASA_TOKEN="short").problems()
    assert "HASH_SALT still has the development default" in problems
    assert "RASA_TOKEN is shorter than 16 characters" in problems
    assert production(office_kb).problems() == []


def test_the_api_refuses_to_start(office_kb):
    from api.main import create_app

    with pytest.raises(UnsafeConfiguration) as refused:
        create_app(production(office_kb, METRICS_TOKEN=None))
    assert "METRICS_TOKEN is not set" in str(refused.value)


def test_the_telegram_bot_refuses_to_start(office_kb, monkeypatch):
    from bot.telegram import __main__ as telegram_main

    settings = production(office_kb, RASA_WEBHOOK_SECRET=None, TELEGRAM_TOKEN="123:abc")
    monkeypatch.setattr(telegram_main, "get_settings", lambda: settings)
    with pytest.raises(UnsafeConfiguration) as refused:
        asyncio.run(telegram_main.main())
    assert "RASA_WEBHOOK_SECRET is not set" in str(refused.value)


def test_the_wechat_bot_refuses_to_start(office_kb):
    from bot.wechat.__main__ import serve

    with pytest.raises(UnsafeConfiguration) as refused:
        asyncio.run(serve(production(office_kb, LOG_SALT=DEV_SALT, WECHAT_TOKEN="t" * 20)))
    assert "LOG_SALT still has the development default" in str(refused.value)


def test_the_action_server_refuses_to_start(office_kb, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in GOOD},
        **GOOD,
        "APP_ENV": "production",
        "KB_DIR": str(office_kb),
        "DATABASE_URL": "postgresql://app@db/app",
        "PYTHONPATH": str(ROOT),
    }
    del env["ACTION_SERVER_SECRET"]
    done = subprocess.run(
        [sys.executable, "-m", "actions", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "ACTION_SERVER_SECRET is not set" in done.stderr
