"""`make train`: train the Rasa model unless models/ has one for the current hash.

The model is named by scripts/model_hash.py (what Rasa learns: config, domain, data, the
add-ons that featurize). Rasa's whole output goes to var/log/train.log; the terminal shows a
progress bar — elapsed time against the last measured training (var/timings.json), the
component being trained and DIET's epoch counter — and one line when the model is written.

    python -m scripts.train [--out DIR] [--force]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts.model_hash import model_hash
from scripts.progress import ROOT, Progress, estimate, record, rel, tail

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
LOG = ROOT / "var" / "log" / "train.log"
# First-run estimate (no var/timings.json yet): the intents-only pipeline on 2 cores, uncached.
DEFAULT_S = 70.0  # make bench --fresh-clone, 2026-12-02: 49–68 s

EPOCHS = re.compile(r"Epochs:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)")
COMPONENT = re.compile(r"(Starting to train|Restored) component '([^']+)'")
FINISHED = re.compile(r"Finished training component '([^']+)'")
STORIES = re.compile(r"Processed (story blocks|rules|trackers)")


# After DIET's last epoch: the fallback/routing components, the policies and packing the model.
AFTER_EPOCHS_S = 15.0


class TrainView:
    """Rasa's output (tqdm bars end in \\r, log lines in \\n) → the status text, and once the
    epochs run, the time left from their pace."""

    def __init__(self) -> None:
        self.component = ""
        self.epoch: tuple[int, int] | None = None
        self.restored: list[str] = []
        self.component_started = time.monotonic()

    def remaining_s(self, now: float | None = None) -> float | None:
        """Seconds left: the epochs to go at the pace so far, plus what follows them."""
        if self.epoch is None or self.epoch[0] < 2:
            return None
        done, total = self.epoch
        pace = ((now or time.monotonic()) - self.component_started) / done
        return (total - done) * pace + AFTER_EPOCHS_S

    def feed(self, line: str) -> str | None:
        """The new status for one line of output, or None when it changes nothing."""
        if match := EPOCHS.search(line):
            self.epoch = (int(match.group(1)), int(match.group(2)))
            return f"{self.component or 'DIETClassifier'} epoch {self.epoch[0]}/{self.epoch[1]}"
        if match := COMPONENT.search(line):
            if match.group(1) == "Restored":
                self.restored.append(match.group(2))
                return f"{match.group(2)} (from Rasa's cache)"
            self.component, self.epoch = match.group(2), None
            self.component_started = time.monotonic()
            return f"training {self.component}"
        if match := FINISHED.search(line):
            # Rasa logs nothing while the featurizers process the examples (the E5 sentence
            # embeddings took most of a minute): say what is going on.
            return f"featurizing the training examples (after {match.group(1)})"
        if "Started validating domain and training data" in line:
            return "validating the domain and training data"
        if match := STORIES.search(line):
            return f"reading {match.group(1)}"
        if "Your Rasa model is trained" in line:
            return "packing the model"
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.train", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--force", action="store_true", help="train even if the model exists")
    args = parser.parse_args(argv)
    name = f"qiaowu-{model_hash(ROOT)}"
    model = args.out / f"{name}.tar.gz"
    if model.exists() and not args.force:
        print(f"✓ model up to date: {rel(model)}")
        return 0
    if not RASA_BIN.exists():
        print(f"✗ {rel(RASA_BIN)} is missing: run `make install`", file=sys.stderr)
        return 1
    LOG.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONWARNINGS": "ignore",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",  # Rasa's lines as they happen
    }
    env.setdefault("PYTHONPATH", str(ROOT))  # Rasa imports rasa_addons and core.text from here
    env.pop("LOG_LEVEL", None)  # INFO: Rasa prints the components and the epoch bar
    cmd = [str(RASA_BIN), "train", "--fixed-model-name", name, "--out", str(args.out)]
    view = TrainView()
    with Progress() as progress, LOG.open("wb") as log:
        log.write(f"$ {' '.join(cmd)}\n".encode())
        task = progress.add(
            "training", estimate("train", DEFAULT_S), f"starting Rasa → {rel(model)}"
        )
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert proc.stdout is not None
        pending = b""
        try:
            while chunk := os.read(proc.stdout.fileno(), 65536):
                log.write(chunk)
                pending += chunk
                *lines, pending = re.split(rb"[\r\n]", pending)
                for raw in lines:
                    status = view.feed(raw.decode("utf-8", "replace"))
                    if status is not None:
                        left = view.remaining_s()
                        eta = task.elapsed + left if left is not None else None
                        progress.update(task, status, estimate_s=eta)
            code = proc.wait()
        except KeyboardInterrupt:  # Ctrl-C reached Rasa too (same process group)
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            progress.fail(task, f"interrupted; the log so far is {rel(LOG)}")
            return 130
        log.flush()
        if code != 0 or not model.exists():
            progress.fail(task, f"failed (exit {code}); see {rel(LOG)}")
            print(tail(LOG, 15), file=sys.stderr)
            return 1
        if not view.restored:  # a partly cached training says little about the next one
            record("train", task.elapsed)
        progress.done(task, f"→ {rel(model)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
