"""Start Rasa, the action server, the api and the bot as child processes and wait for health.

Used by `make run` (scripts/run.py) and by the end-to-end test fixtures, so both start the
system the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
APP_PY = ROOT / ".venv" / "bin" / "python"
PROD_ENDPOINTS = ROOT / "endpoints.prod.yml"


def current_model() -> Path:
    """The model file named by the current data/kb/config hash (QIAOWU_MODEL overrides it)."""
    if os.environ.get("QIAOWU_MODEL"):
        return Path(os.environ["QIAOWU_MODEL"]).resolve()
    from scripts.model_hash import model_hash

    return ROOT / "models" / f"qiaowu-{model_hash(ROOT)}.tar.gz"


@dataclass
class Service:
    name: str
    args: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    health_headers: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None


def http_ok(url: str, timeout: float = 2.0, headers: dict[str, str] | None = None) -> bool:
    """True when GET url answers 200."""
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Stack:
    """A set of child processes started in order and stopped together."""

    services: list[Service]
    env: dict[str, str]
    log_dir: Path

    def start(self, service: Service) -> None:
        """Spawn one service, logging to a file."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        service.log_path = self.log_dir / f"{service.name}.log"
        log = service.log_path.open("ab")
        service.proc = subprocess.Popen(
            service.args,
            cwd=ROOT,
            env={**self.env, **service.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(
        self, service: Service, timeout_s: float, progress: Callable[[str], None] | None = None
    ) -> None:
        """Block until the health URL answers; RuntimeError if the process dies or times out."""
        if not service.health_url:  # no HTTP endpoint (the bot): alive after a grace period
            time.sleep(3)
            if service.proc is not None and service.proc.poll() is not None:
                raise RuntimeError(f"{service.name} exited; see {service.log_path}")
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if service.proc is not None and service.proc.poll() is not None:
                raise RuntimeError(
                    f"{service.name} exited with {service.proc.returncode}; see {service.log_path}"
                )
            if http_ok(service.health_url, headers=service.health_headers):
                return
            time.sleep(1)
        raise RuntimeError(
            f"{service.name} not healthy after {timeout_s:.0f}s; see {service.log_path}"
        )

    def up(self, timeout_s: float = 300, progress: Callable[[str], None] | None = None) -> None:
        """Start every service, then wait for each to be healthy."""
        for service in self.services:
            self.start(service)
        for service in self.services:
            if progress:
                progress(f"waiting for {service.name} ({service.health_url})")
            self.wait_healthy(service, timeout_s)

    def down(self) -> None:
        """Stop every child (SIGTERM, then SIGKILL after 10 s)."""
        for service in reversed(self.services):
            if service.proc is not None and service.proc.poll() is None:
                os.killpg(service.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for service in self.services:
            if service.proc is None:
                continue
            try:
                service.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(service.proc.pid, signal.SIGKILL)
                service.proc.wait()


def rasa_service(name: str, model: Path, port: int, token: str, endpoints: Path) -> Service:
    """One Rasa server (several replicas may share a tracker and lock store).

    Started through rasa_addons/server.py: the token travels in the environment (RASA_TOKEN),
    never on the command line, and Rasa takes it only as an `Authorization: Bearer` header.
    """
    return Service(
        name,
        [
            str(RASA_PY),
            "-m",
            "rasa_addons.server",
            "run",
            "--model",
            str(model),
            "--enable-api",
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ],
        f"http://127.0.0.1:{port}/status",
        # Measured (docs/benchmarks.md): oneDNN's graph rewrites buy nothing for models this
        # small, and fewer malloc arenas keep TensorFlow's threads from fragmenting memory —
        # together about 40 MB less resident memory per replica.
        env={"TF_ENABLE_ONEDNN_OPTS": "0", "MALLOC_ARENA_MAX": "2", "RASA_TOKEN": token},
        health_headers={"Authorization": f"Bearer {token}"},
    )


def build_stack(
    *,
    model: Path,
    database_url: str,
    rasa_port: int = 5005,
    action_port: int = 5055,
    api_port: int | None = 8000,
    rasa_token: str,
    endpoints: Path,
    log_dir: Path,
    bot: bool = False,
    wechat: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Stack:
    """The services of the system, bound to 127.0.0.1."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "DATABASE_URL": database_url,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "RASA_TOKEN": rasa_token,
        # Rasa → action server (endpoints.yml headers); made up per start unless configured.
        "ACTION_SERVER_SECRET": os.environ.get("ACTION_SERVER_SECRET") or secrets.token_urlsafe(24),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
        "SANIC_HOST": "127.0.0.1",
        **(extra_env or {}),
    }
    services = [
        Service(
            "actions",
            [str(APP_PY), "-m", "actions", "--port", str(action_port)],
            f"http://127.0.0.1:{action_port}/health",
            # One BLAS thread: concurrent requests already use the cores; OpenBLAS threads
            # fighting over 2 cores made the dense scoring 5-20x slower under load.
            env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        ),
        rasa_service("rasa", model, rasa_port, rasa_token, endpoints),
    ]
    if api_port is not None:
        services.append(
            Service(
                "api",
                [
                    str(APP_PY),
                    "-m",
                    "uvicorn",
                    "api.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(api_port),
                ],
                f"http://127.0.0.1:{api_port}/healthz",
            )
        )
    if bot:
        services.append(Service("bot", [str(APP_PY), "-m", "bot.telegram"], ""))
    if wechat:
        services.append(Service("wechat", [str(APP_PY), "-m", "bot.wechat"], ""))
    return Stack(services, env, log_dir)


def write_endpoints(path: Path, *, action_port: int, tracker_db: Path) -> Path:
    """An endpoints.yml for a stack on non-default ports (tests)."""
    path.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "  headers:\n    X-Action-Secret: ${ACTION_SERVER_SECRET}\n"
        "tracker_store:\n  type: rasa_addons.tracker_store.ResilientSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{tracker_db}"\n',
        encoding="utf-8",
    )
    return path


def rasa_store_env(
    database_url: str,
    redis_url: str | None,
    *,
    action_port: int,
    tracker_database_url: str | None = None,
    lock_prefix: str = "qiaowu",
) -> dict[str, str]:
    """Environment for endpoints.prod.yml: PostgreSQL tracker store and Redis lock store.

    Derived from the app's DATABASE_URL (or TRACKER_DATABASE_URL) and REDIS_URL, so operators
    configure each server once. ValueError when the combination cannot run several replicas.
    """
    from urllib.parse import urlsplit

    from sqlalchemy.engine import make_url

    tracker = make_url(tracker_database_url or database_url)
    if tracker.get_backend_name() != "postgresql":
        raise ValueError("the production tracker store needs a postgresql:// database URL")
    if not redis_url:
        raise ValueError("REDIS_URL is required with a PostgreSQL DATABASE_URL (Rasa lock store)")
    redis = urlsplit(redis_url)
    if redis.scheme not in ("redis", "rediss") or not redis.hostname:
        raise ValueError("REDIS_URL must look like redis://[:password@]host:port/db")
    if not lock_prefix.isalnum():
        raise ValueError("the Redis lock prefix must be letters and digits only")
    db = redis.path.lstrip("/")
    return {
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        # Rasa's tracker store runs on psycopg2: the plain postgresql:// driver name.
        "TRACKER_DB_URL": tracker.set(drivername="postgresql").render_as_string(
            hide_password=False
        ),
        "TRACKER_DB_NAME": tracker.database or "",
        "REDIS_HOST": redis.hostname,
        "REDIS_PORT": str(redis.port or 6379),
        "REDIS_DB": db if db.isdigit() else "1",
        "REDIS_PASSWORD": redis.password or "",
        "REDIS_LOCK_PREFIX": lock_prefix,
    }


def new_widget_session(api: str, timeout: float = 30.0) -> str:
    """A session id issued by the api at `api` (POST /api/v1/sessions), as the widget gets one."""
    import httpx

    response = httpx.post(f"{api.rstrip('/')}/api/v1/sessions", timeout=timeout)
    response.raise_for_status()
    return str(response.json()["session_id"])


def rasa_auth(token: str) -> dict[str, str]:
    """Headers for Rasa's HTTP API (the token is never put in a URL)."""
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_stack(
    work: Path,
    *,
    model: Path,
    ports: dict[str, int] | None = None,
    extra_env: dict[str, str] | None = None,
    seed: Callable[[Session], None] | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> tuple[Stack, dict[str, int]]:
    """A stack for tests, eval and bench: free ports, development salts, an app DB migrated and
    seeded with the demo cases (plus `seed`). Not started yet.

    By default the app DB and Rasa's tracker store are fresh SQLite files in `work`; with a
    PostgreSQL `database_url` (an empty database) and `redis_url` it runs in production mode:
    both on PostgreSQL (endpoints.prod.yml) and Rasa's lock store on Redis.
    """
    from core.cases.demo import seed_demo_cases
    from core.db.engine import build_engine, session_factory, session_scope
    from core.db.migrate import upgrade
    from core.settings import DEV_SALT

    url = database_url or f"sqlite:///{work / 'app.db'}"
    upgrade(url)
    engine = build_engine(url)
    with session_scope(session_factory(engine)) as session:
        seed_demo_cases(session, DEV_SALT, dt.datetime.now(dt.UTC))
        if seed is not None:
            seed(session)
    engine.dispose()
    ports = ports or {"rasa": free_port(), "actions": free_port(), "api": free_port()}
    env = {
        "HASH_SALT": DEV_SALT,
        "LOG_SALT": DEV_SALT,
        # Load tests and e2e tests open many widget sessions from one address; they may also
        # sign session ids themselves (core.conversation.widget_sessions.mint).
        "WIDGET_SESSIONS_PER_HOUR": "1000000",
        "WIDGET_SESSION_SECRET": secrets.token_urlsafe(24),
    }
    if database_url is None:
        env["TRACKER_DATABASE_URL"] = f"sqlite:///{work / 'tracker.db'}"  # for the retention job
        endpoints = write_endpoints(
            work / "endpoints.yml", action_port=ports["actions"], tracker_db=work / "tracker.db"
        )
    else:
        endpoints = PROD_ENDPOINTS
        env |= rasa_store_env(url, redis_url, action_port=ports["actions"])
        env["REDIS_URL"] = redis_url or ""
    stack = build_stack(
        model=model,
        database_url=url,
        rasa_port=ports["rasa"],
        action_port=ports["actions"],
        api_port=ports["api"],
        rasa_token=secrets.token_urlsafe(16),
        endpoints=endpoints,
        log_dir=work / "log",
        extra_env={**env, **(extra_env or {})},
    )
    return stack, ports
