"""All configuration, read once from environment variables (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SALT = "dev-only-salt-change-me"


class Settings(BaseSettings):
    """Every setting has a safe local default; production requires the ones named in `problems`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/app.db"  # embedded default; PostgreSQL in production
    redis_url: str | None = None  # None → Rasa uses its in-process lock store

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None  # protects Rasa's HTTP API (not the REST webhook)
    rasa_timeout_s: float = 30.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_origins: list[str] = []

    telegram_token: SecretStr | None = None  # None → bot stays off, and start-up says so
    telegram_api_base: str | None = None  # e.g. a local Bot API server; None → api.telegram.org

    kb_dir: Path = Path("kb")
    max_message_chars: int = 2000
    # Salts for hashing sender ids in logs and phone digits / query codes in the database.
    log_salt: SecretStr = SecretStr(DEV_SALT)
    hash_salt: SecretStr = SecretStr(DEV_SALT)

    # Answering thresholds (tuned in make eval).
    kb_answer_threshold: float = 0.5
    kb_suggest_threshold: float = 0.2
    lockout_max_failures: int = 5
    lockout_window_s: int = 900

    def problems(self) -> list[str]:
        """Settings that are unsafe for the current environment, as operator-readable lines."""
        if self.app_env != "production":
            return []
        found = []
        if self.rasa_token is None:
            found.append("RASA_TOKEN is not set; Rasa's HTTP API would be unprotected")
        for name in ("log_salt", "hash_salt"):
            if getattr(self, name).get_secret_value() == DEV_SALT:
                found.append(f"{name.upper()} still has the development default")
        if self.database_url.startswith("sqlite"):
            found.append("DATABASE_URL points at SQLite; use PostgreSQL in production")
        return found


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings(...)` instead)."""
    return Settings()
