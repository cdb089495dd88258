"""Helpers for the production-mode tests: throw-away PostgreSQL databases and clusters.

- `scratch_database` creates an empty database on the shared server (127.0.0.1:5432) and drops
  it afterwards, so the app tables and Rasa's tracker `events` table start empty.
- `PrivateCluster` runs a PostgreSQL server of our own (initdb in a temp dir, a free port) that a
  test may stop and start again without disturbing anything else on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scripts.stack import Service, Stack

ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _admin_engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(
        make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )


@contextmanager
def scratch_database(admin_url: str = ADMIN_URL) -> Iterator[str]:
    """The URL of a new, empty database; dropped (with its connections) on exit."""
    name = f"qiaowu_e2e_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return versions[-1].parent


class PrivateCluster:
    """A PostgreSQL server owned by the test (trust auth on 127.0.0.1:`port`)."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.data = root / "data"
        self.bin = _pg_bin()
        # initdb refuses to run as root: run the server as the `postgres` system user then.
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.root, self.user, self.user)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.root / "pg.log"),
            "-w",
            "start",
        )

    def crash(self) -> None:
        """Stop at once, as a crash would (no checkpoint, clients cut off)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        admin = _admin_engine(self.url)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def destroy(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.crash()
        shutil.rmtree(self.root, ignore_errors=True)


def service(stack: Stack, name: str) -> Service:
    return next(s for s in stack.services if s.name == name)


def kill(stack: Stack, name: str) -> None:
    """SIGKILL one service (its whole process group) and wait until it is gone."""
    import signal

    proc = service(stack, name).proc
    assert proc is not None and proc.poll() is None, f"{name} is not running"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def restart(stack: Stack, name: str, timeout_s: float = 400) -> None:
    """Start a killed service again and wait until it is healthy."""
    svc = service(stack, name)
    stack.start(svc)
    stack.wait_healthy(svc, timeout_s)


SENT: set[str] = set()  # every citizen text the tests sent (the logs must not contain them)


def say(base: str, sender: str, message: str) -> list[dict]:
    """One message to a Rasa server's REST webhook; the payloads of its replies."""
    SENT.add(message)
    response = httpx.post(
        f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )
    response.raise_for_status()
    return [m["custom"] for m in response.json() if "custom" in m]


def wait_until(check, timeout_s: float = 60, every_s: float = 0.5):  # type: ignore[no-untyped-def]
    """Poll `check()` until it returns a truthy value; that value, or AssertionError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s:.0f}s")
