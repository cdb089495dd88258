"""What a person sees during `make install`, `make kb`, `make train` and `make run`.

A status line per long step — on a terminal a bar redrawn twice a second with the elapsed time
against an estimate, in a log (CI, a pipe) a plain line when the status changes (at most every
`LOG_EVERY_S`) — and one permanent line per finished step: "✓ rasa ready (12 s)". Estimates
are the step's last measured duration, kept in var/timings.json, or a default measured on the
2-core reference machine for the first run.

Stdlib only: `make install` runs it before any virtual environment exists.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ROOT / "var" / "timings.json"  # QIAOWU_TIMINGS overrides it (tests)
LOG_EVERY_S = 15.0
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def fmt_duration(seconds: float) -> str:
    """12 s, 1 min 40 s, 1 h 2 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min"


def _timings_path() -> Path:
    return Path(os.environ.get("QIAOWU_TIMINGS") or TIMINGS)


def load_timings(path: Path | None = None) -> dict[str, float]:
    """Last measured duration of each step ({} when none yet or unreadable)."""
    path = path or _timings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}


def record(step: str, seconds: float, path: Path | None = None) -> None:
    """Store a step's duration (the next run's estimate); never fails the caller."""
    path = path or _timings_path()
    try:
        data = load_timings(path)
        data[step] = round(seconds, 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def estimate(step: str, default: float | None = None, path: Path | None = None) -> float | None:
    """The step's last measured duration, else `default`."""
    return load_timings(path).get(step, default)


def tail(path: Path | None, lines: int = 12) -> str:
    """The last lines of a log file, indented, for an error message ('' when unreadable)."""
    if path is None:
        return ""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    rows = [r for r in text.replace("\r", "\n").splitlines() if r.strip()][-lines:]
    return "\n".join(f"    │ {r[:200]}" for r in rows)


def rel(path: Path) -> str:
    """A path relative to the checkout when it is inside it (what a person types)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


@dataclass
class Task:
    """One long step on the status line."""

    label: str
    estimate_s: float | None = None
    status: str = ""
    fraction: float | None = None  # known progress (0..1); else elapsed / estimate
    started: float = field(default_factory=time.monotonic)
    finished: bool = False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def progress(self) -> float | None:
        """Known progress, else the share of the estimate used (held below 99 %)."""
        if self.fraction is not None:
            return max(0.0, min(self.fraction, 1.0))
        if self.estimate_s:
            return min(0.99, self.elapsed / self.estimate_s)
        return None


def _bar(fraction: float | None, width: int, tick: int) -> str:
    if fraction is None:  # no estimate: a sweep, so it visibly moves
        pos = tick % (2 * width - 2) if width > 1 else 0
        pos = pos if pos < width else 2 * width - 2 - pos
        return "".join("█" if i == pos else "░" for i in range(width))
    full = int(fraction * width)
    return "█" * full + "░" * (width - full)


class Progress:
    """The status line for one or more concurrent tasks, and the permanent ✓ / ✗ lines."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        if os.environ.get("TERM") == "dumb":
            self.tty = False
        self.tasks: list[Task] = []
        self._lock = threading.RLock()
        self._drawn = False
        self._tick = 0
        self._last_log: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- tasks ------------------------------------------------------------------------------
    def add(self, label: str, estimate_s: float | None = None, status: str = "") -> Task:
        with self._lock:
            task = Task(label, estimate_s, status)
            self.tasks.append(task)
            self._log_line(task, force=True)
            self._draw()
            return task

    def update(
        self,
        task: Task,
        status: str | None = None,
        fraction: float | None = None,
        estimate_s: float | None = None,
    ) -> None:
        with self._lock:
            if task.finished:
                return
            if status is not None:
                task.status = status
            if fraction is not None:
                task.fraction = fraction
            if estimate_s is not None:
                task.estimate_s = estimate_s
            self._log_line(task)

    def done(self, task: Task, message: str = "", mark: str = "✓", timed: bool = True) -> None:
        """Remove the task from the status line and print its permanent line."""
        with self._lock:
            task.finished = True
            if task in self.tasks:
                self.tasks.remove(task)
            took = f" ({fmt_duration(task.elapsed)})" if timed else ""
            self.print(f"{mark} {task.label}{' ' + message if message else ''}{took}")

    def drop(self, task: Task) -> None:
        """Remove a task from the status line without a line of its own."""
        with self._lock:
            task.finished = True
            if task in self.tasks:
                self.tasks.remove(task)
            self._clear()
            self._draw()

    def fail(self, task: Task, message: str) -> None:
        self.done(task, message, mark="✗")

    def print(self, line: str = "", file: TextIO | None = None) -> None:
        """A permanent line (the status line is redrawn below it)."""
        with self._lock:
            self._clear()
            print(line, file=file or self.stream, flush=True)
            self._draw()

    # -- drawing ----------------------------------------------------------------------------
    def _render(self) -> str:
        tasks = [t for t in self.tasks if not t.finished]
        width = shutil.get_terminal_size((100, 20)).columns - 1
        bar_w = 20 if len(tasks) == 1 else 10
        parts = []
        for task in tasks:
            fraction = task.progress()
            pct = f"{int(fraction * 100)}%" if fraction is not None else ""
            timing = fmt_duration(task.elapsed)
            if task.estimate_s:
                timing += f" / ~{fmt_duration(task.estimate_s)}"
            pieces = [task.label, _bar(fraction, bar_w, self._tick), pct, timing]
            text = " ".join(p for p in pieces if p)
            if task.status:
                text += f" · {task.status}"
            parts.append(text)
        spin = SPINNER[self._tick % len(SPINNER)]
        line = f"{spin} " + "  │  ".join(parts)
        return line[:width]

    def _draw(self) -> None:
        if not self.tty or not any(not t.finished for t in self.tasks):
            return
        self.stream.write("\r\x1b[K" + self._render())
        self.stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def _log_line(self, task: Task, force: bool = False) -> None:
        """Without a terminal: a line when the status changed, at most every LOG_EVERY_S."""
        if self.tty:
            return
        key = id(task)
        last = self._last_log.get(key)
        now = time.monotonic()
        if not force and last is not None and (now - last[1] < LOG_EVERY_S):
            return
        if not force and last is not None and last[0] == task.status and now - last[1] < 60:
            return
        self._last_log[key] = (task.status, now)
        timing = fmt_duration(task.elapsed)
        if task.estimate_s:
            timing += f" of ~{fmt_duration(task.estimate_s)}"
        status = f": {task.status}" if task.status else ""
        print(f"  … {task.label} {timing}{status}", file=self.stream, flush=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5 if self.tty else 5.0):
            with self._lock:
                self._tick += 1
                self._draw()
                for task in self.tasks:
                    self._log_line(task)

    def __enter__(self) -> Progress:
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            self._clear()


@contextmanager
def step(progress: Progress, label: str, key: str, default_s: float | None) -> Iterator[Task]:
    """A task estimated from var/timings.json[key]; its duration is recorded when it succeeds."""
    task = progress.add(label, estimate(key, default_s))
    yield task
    record(key, task.elapsed)
