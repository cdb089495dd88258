"""Every command line has one style: argparse, `python -m <package>`, and `--help`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIS = [
    "core.cases",
    "core.staff",
    "core.kb",
    "core.db",
    "core.retention",
    "bot.telegram",
    "bot.wechat",
    "scripts.run",
    "actions",
]


@pytest.mark.parametrize("module", CLIS)
def test_every_cli_answers_help(module):
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {module}")
