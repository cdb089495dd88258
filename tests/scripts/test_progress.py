"""What a person sees during `make install`, `make kb`, `make train` (scripts/progress.py,
scripts/install.py, scripts/train.py): status from pip's and Rasa's output, a ✓ / ✗ line per
step, failures naming the step and its log, and wheels-only, fully locked requirements."""

from __future__ import annotations

import io
import re
import stat
import sys
from pathlib import Path

import pytest

from scripts import install, progress, train
from scripts.progress import Progress, fmt_duration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_timings(tmp_path, monkeypatch):
    monkeypatch.setenv("QIAOWU_TIMINGS", str(tmp_path / "timings.json"))


def test_durations_read_like_a_person_says_them():
    assert [fmt_duration(s) for s in (0.4, 12, 60, 100, 3725)] == [
        "0 s",
        "12 s",
        "1 min",
        "1 min 40 s",
        "1 h 2 min",
    ]


def test_a_measured_step_becomes_the_next_estimate():
    assert progress.estimate("train", 110.0) == 110.0
    progress.record("train", 93.26)
    assert progress.estimate("train", 110.0) == 93.3


def test_without_a_terminal_each_step_gets_a_status_line_and_a_done_line():
    out = io.StringIO()
    with Progress(stream=out, tty=False) as view:
        task = view.add("rasa", 45.0, "loading the model")
        view.done(task, "ready")
    lines = out.getvalue().splitlines()
    assert lines[0] == "  … rasa 0 s of ~45 s: loading the model"
    assert lines[1] == "✓ rasa ready (0 s)"


def test_on_a_terminal_the_bar_is_redrawn_in_place_and_cleared(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the line is cut to the terminal's width
    out = io.StringIO()
    view = Progress(stream=out, tty=True)
    task = view.add("training", 100.0, "DIETClassifier epoch 3/60")
    view.update(task, fraction=0.5)
    view._draw()
    view.fail(task, "failed (exit 1); see var/log/train.log")
    text = out.getvalue()
    assert "\r\x1b[K" in text
    assert "training ██████████░░░░░░░░░░ 50% 0 s / ~1 min 40 s · DIETClassifier epoch 3/60" in text
    assert text.endswith("✗ training failed (exit 1); see var/log/train.log (0 s)\n")


@pytest.mark.parametrize(
    "line, status",
    [
        (
            "Epochs:  45%|████▌     | 27/60 [00:10<00:12,  2.61it/s, t_loss=1.2, i_acc=0.9]",
            "DIETClassifier epoch 27/60",
        ),
        (
            "2026-01-01 12:00:00 INFO rasa.engine.training.hooks - Starting to train component "
            "'E5SentenceFeaturizer'.",
            "training E5SentenceFeaturizer",
        ),
        (
            "... Restored component 'JiebaTokenizer' from cache.",
            "JiebaTokenizer (from Rasa's cache)",
        ),
        ("Processed story blocks: 100%|██████████| 12/12", "reading story blocks"),
        (
            "... INFO rasa.engine.training.hooks  - Finished training component "
            "'CountVectorsFeaturizer'.",
            "featurizing the training examples (after CountVectorsFeaturizer)",
        ),
        ("the weather", None),
    ],
)
def test_rasa_output_becomes_the_training_status(line, status):
    assert train.TrainView().feed(line) == status


def _fake_rasa(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_training_shows_epochs_and_writes_the_model(tmp_path, monkeypatch, capsys):
    rasa = _fake_rasa(
        tmp_path / "rasa",
        "import sys, pathlib\n"
        "print(\"INFO Starting to train component 'DIETClassifier'.\", flush=True)\n"
        "for i in range(1, 4):\n"
        "    sys.stderr.write(f'\\rEpochs: {i * 33}%|###| {i}/3 [00:01<00:00]')\n"
        "out = pathlib.Path(sys.argv[sys.argv.index('--out') + 1])\n"
        "name = sys.argv[sys.argv.index('--fixed-model-name') + 1]\n"
        "(out / f'{name}.tar.gz').write_bytes(b'model')\n",
    )
    monkeypatch.setattr(train, "RASA_BIN", rasa)
    monkeypatch.setattr(train, "LOG", tmp_path / "train.log")
    assert train.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"✓ training → .*qiaowu-[0-9a-f]{16}\.tar\.gz \(\d+ s\)", out)
    assert "3/3" in (tmp_path / "train.log").read_text()
    assert progress.estimate("train") is not None  # the next run's estimate
    assert train.main(["--out", str(tmp_path)]) == 0
    assert "✓ model up to date" in capsys.readouterr().out


def test_a_failed_training_names_its_log_and_shows_its_end(tmp_path, monkeypatch, capsys):
    rasa = _fake_rasa(
        tmp_path / "rasa", "print('InvalidConfigException: no pipeline')\nraise SystemExit(1)\n"
    )
    monkeypatch.setattr(train, "RASA_BIN", rasa)
    monkeypatch.setattr(train, "LOG", tmp_path / "train.log")
    assert train.main(["--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert f"✗ training failed (exit 1); see {tmp_path / 'train.log'}" in captured.out
    assert "InvalidConfigException: no pipeline" in captured.err


def test_pip_output_becomes_the_install_status(tmp_path):
    out = io.StringIO()
    view = Progress(stream=out, tty=False)
    venv = install.venvs("python3.10", "python3.11")["rasa"]
    installer = install.Installer(venv, view)
    installer.task = view.add(".venv-rasa", 200.0)
    total = venv.locked_packages()
    installer.parse("Collecting rasa==3.6.21 (from -r requirements/rasa.txt (line 6))")
    assert installer.task.status == f"collecting 1/{total}"
    installer.parse("Requirement already satisfied: jieba==0.42.1 in ./.venv-rasa/lib/...")
    assert installer.task.status == f"collecting 2/{total}"
    installer.parse("Building wheels for collected packages: jieba, docopt")
    assert installer.task.status == "building jieba, docopt (no wheel on the index)"
    installer.parse("Installing collected packages: a, b, c")
    assert installer.task.status == "installing 3 packages"
    assert installer.task.progress() == pytest.approx(0.4)


def test_a_failed_install_step_names_the_step_and_the_log(tmp_path):
    broken = _fake_rasa(
        tmp_path / "python3.11", "print('no ensurepip here')\nraise SystemExit(2)\n"
    )
    venv = install.Venv(
        "app",
        tmp_path / "venv",
        "3.11",
        ROOT / "requirements" / "app.txt",
        ROOT / "requirements" / "app-constraints.txt",
        python=str(broken),
        log_dir=tmp_path / "log",
    )
    out = io.StringIO()
    installer = install.Installer(venv, Progress(stream=out, tty=False))
    assert installer.install() is False
    assert installer.error == (
        f"{tmp_path / 'venv'}: `python -m venv` failed (exit 2); see {tmp_path / 'log' / 'install-app.log'}"
    )
    assert "✗" in out.getvalue()
    assert "no ensurepip here" in (tmp_path / "log" / "install-app.log").read_text()
    assert not venv.stamp.exists()


def test_a_venv_is_up_to_date_only_for_the_inputs_it_was_built_from(tmp_path):
    req, lock = tmp_path / "req.txt", tmp_path / "lock.txt"
    req.write_text("a==1\n")
    lock.write_text("a==1\n")
    venv = install.Venv("app", tmp_path / "venv", "3.11", req, lock)
    assert not venv.up_to_date()
    venv.path.mkdir()
    venv.stamp.write_text(venv.input_hash())
    assert venv.up_to_date()
    lock.write_text("a==2\n")
    assert not venv.up_to_date()


@pytest.mark.parametrize("name", ["app", "rasa"])
def test_requirements_are_wheels_only_and_every_pin_is_in_the_lock(name):
    req = (ROOT / "requirements" / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    lock = (ROOT / "requirements" / f"{name}-constraints.txt").read_text(encoding="utf-8")

    def canon(pkg: str) -> str:
        return re.sub(r"[-_.]+", "-", pkg).lower()

    locked = {canon(line.split("==")[0]) for line in lock.splitlines() if "==" in line}
    assert "--only-binary :all:" in req
    sources = [line.split(None, 1)[1] for line in req if line.startswith("--no-binary")]
    for pkg in ",".join(sources).split(","):
        assert canon(pkg) in locked, f"{pkg} (built from source) is not in the lock"
    pins = [line.split("#")[0].strip() for line in req if "==" in line and not line.startswith("-")]
    for pin in pins:
        pkg, version = pin.split("==")
        pkg = canon(pkg.split("[")[0])
        if pkg in ("setuptools", "wheel") and name == "rasa":
            continue  # pinned in rasa.txt: rasa-constraints.txt is part of the model hash
        assert f"=={version}" in next(
            line for line in lock.splitlines() if canon(line.split("==")[0]) == pkg
        ), pin


def test_the_epochs_pace_gives_the_time_left():
    view = train.TrainView()
    view.feed("INFO Starting to train component 'DIETClassifier'.")
    view.component_started = 100.0
    view.feed("Epochs:  10%|#   | 6/60 [00:12<01:48]")
    # 6 epochs in 12 s: 54 more at 2 s, then the policies and packing.
    assert view.remaining_s(now=112.0) == 54 * 2.0 + train.AFTER_EPOCHS_S
