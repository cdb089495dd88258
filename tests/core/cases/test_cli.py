"""`python -m core.cases import|purge|seed` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(args, database_url, stdin=None):
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_import_reports_rows_and_is_repeatable(tmp_path, sqlite_url):
    good = tmp_path / "cases.csv"
    good.write_text(
        "reference,kind,state,applicant_name,phone,query_code\n"
        "IN-2026-200001,invitation,need_more,钱七,13912345678,\n",
        encoding="utf-8",
    )
    first = run(["core.cases", "import", str(good)], sqlite_url)
    second = run(["core.cases", "import", str(good)], sqlite_url)
    assert first.returncode == 0 and "1 created" in first.stdout
    assert second.returncode == 0 and "1 unchanged" in second.stdout
    assert "钱七" not in first.stdout + first.stderr and "5678" not in first.stderr


def test_import_of_a_bad_file_imports_nothing(tmp_path, sqlite_url):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "reference,kind,state,applicant_name,phone\n"
        "IN-2026-200001,invitation,need_more,钱七,13912345678\n"
        "IN-2026-200002,nonsense,need_more,孙八,13912345679\n",
        encoding="utf-8",
    )
    result = run(["core.cases", "import", str(bad)], sqlite_url)
    assert result.returncode == 1
    assert "row 2: kind" in result.stderr and "nothing imported" in result.stderr
    good = tmp_path / "good.csv"
    good.write_text(
        bad.read_text(encoding="utf-8").splitlines()[0]
        + "\n"
        + bad.read_text(encoding="utf-8").splitlines()[1]
        + "\n",
        encoding="utf-8",
    )
    assert "1 created" in run(["core.cases", "import", str(good)], sqlite_url).stdout
    assert "purged 0 closed case(s)" in run(["core.cases", "purge"], sqlite_url).stdout


def test_seed_adds_the_demo_cases_once(sqlite_url):
    first = run(["core.cases", "seed"], sqlite_url)
    second = run(["core.cases", "seed"], sqlite_url)
    assert first.returncode == 0 and first.stdout.strip() == "demo cases: 5 added"
    assert second.stdout.strip() == "demo cases: 0 added"
