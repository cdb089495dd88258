"""Stopping `make run` is as reliable as starting it (issue 19).

The real supervisor (scripts.run.supervise → scripts.stack.serve / Stack) runs a fake stack of
sleeping child processes (tests/scripts/fake_stack.py); the test signals it the way a terminal
and a service manager do — Ctrl-C once or three times, SIGTERM once or twice, also while the
services are still starting — and asserts that no child (nor a worker a child forked) survives
and every port is free again. A taken port is refused before anything starts, naming the pid
and command line of its holder.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.stack import describe_port, free_port, port_free, port_holders

ROOT = Path(__file__).resolve().parents[2]


def _survivors(marker: str) -> list[tuple[int, str]]:
    """Live (not zombie) processes whose command line contains `marker`."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in cmd and "fake_stack" not in cmd and state not in ("Z", "X"):
            out.append((int(entry.name), cmd))
    return out


class FakeRun:
    """`python -m tests.scripts.fake_stack` in its own session (as a terminal's foreground job)."""

    def __init__(self, work: Path, slow: str = "", api_port: int | None = None):
        self.work = work
        self.ports = {"actions": free_port(), "rasa": free_port(), "api": api_port or free_port()}
        args = [f"{name}={port}" for name, port in self.ports.items()]
        if slow:
            args += ["--slow", slow]
        self.out_path = work / "out.txt"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.scripts.fake_stack", str(work), *args],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "TERM": "dumb",
                "QIAOWU_TIMINGS": str(work / "timings.json"),  # not the checkout's estimates
            },
            stdout=self.out_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                pytest.fail(f"fake stack exited early:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} within {timeout} s:\n{self.output()}")
            time.sleep(0.1)

    def signal(self, sig: int, times: int, gap: float = 0.15) -> None:
        for _ in range(times):
            if self.proc.poll() is not None:
                return
            os.killpg(self.proc.pid, sig)  # the foreground process group, as Ctrl-C does
            time.sleep(gap)

    def finish(self, timeout: float = 40) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            pytest.fail(f"supervisor did not exit:\n{self.output()}")

    def cleanup(self) -> None:
        for pid, _ in _survivors(str(self.work)):
            with contextlib.suppress(OSError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)


@pytest.fixture
def fake(tmp_path: Path):
    runs: list[FakeRun] = []

    def make(**kwargs) -> FakeRun:
        run = FakeRun(tmp_path, **kwargs)
        runs.append(run)
        return run

    yield make
    for run in runs:
        if run.proc.poll() is None:
            os.killpg(run.proc.pid, signal.SIGKILL)
        run.cleanup()


def _assert_all_stopped(run: FakeRun) -> None:
    survivors = _survivors(str(run.work))
    assert not survivors, f"children survived the stop: {survivors}\n{run.output()}"
    busy = [p for p in run.ports.values() if not port_free(p)]
    assert not busy, f"ports still taken: {busy}\n{run.output()}"


@pytest.mark.parametrize(
    "sig, times",
    [(signal.SIGINT, 1), (signal.SIGINT, 3), (signal.SIGTERM, 1), (signal.SIGTERM, 2)],
    ids=["ctrl-c", "ctrl-c-x3", "sigterm", "sigterm-x2"],
)
def test_a_running_stack_stops_completely(fake, sig, times):
    run = fake()
    run.wait_for("Ctrl-C stops everything.")
    for name in run.ports:
        assert f"✓ {name} ready" in run.output()
    # The stubborn worker holds the action server's port with SIGTERM ignored, as Sanic's
    # worker did when its parent was killed: only the group's SIGKILL frees it.
    assert len(_survivors(str(run.work))) == 4
    run.signal(sig, times)
    assert run.finish() == 0, run.output()
    _assert_all_stopped(run)
    out = run.output()
    assert "stopping (" in out
    assert "actions did not stop within 1 s: SIGKILL" in out
    assert "✓ all services stopped" in out
    assert "Traceback" not in out


def test_signals_while_starting_stop_what_was_started(fake):
    run = fake(slow="rasa")  # rasa listens only after 4 s
    run.wait_for("✓ actions ready")
    run.signal(signal.SIGINT, 3)
    assert run.finish() == 0, run.output()
    _assert_all_stopped(run)
    assert "Ctrl-C stops everything." not in run.output()


def test_a_taken_port_names_its_holder_and_starts_nothing(fake):
    marker = f"port-holder-{os.getpid()}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
            "s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)",
            marker,
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        port = int(holder.stdout.readline())
        assert not port_free(port)
        holders = port_holders(port)
        assert [pid for pid, _ in holders] == [holder.pid]
        assert marker in holders[0][1]
        message = describe_port(port, "api")
        assert f"port {port} (api) is taken by pid {holder.pid}" in message
        assert marker in message
        # Its command line is this checkout's python: a leftover of ours, with the command to
        # stop its process group.
        assert f"`kill -TERM -- -{os.getpgid(holder.pid)}`" in message

        run = fake(api_port=port)
        assert run.finish() == 1, run.output()
        out = run.output()
        assert f"✗ cannot start: port {port} (api) is taken by pid {holder.pid}" in out
        assert marker in out
        assert not _survivors(str(run.work)), "nothing may start when a port is taken"
    finally:
        holder.kill()
        holder.wait()


def test_a_holder_from_another_checkout_is_named_by_its_checkout():
    from scripts.stack import _checkout_of

    assert _checkout_of("/tmp/fresh/.venv-rasa/bin/python -m rasa_addons.server run") == Path(
        "/tmp/fresh"
    )
    assert _checkout_of("/srv/qw/.venv/bin/python -m actions --port 5055") == Path("/srv/qw")
    assert _checkout_of("redis-server 127.0.0.1:6379") is None
