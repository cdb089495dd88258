"""`python -m core.staff create-token` as an operator runs it."""

from __future__ import annotations

from tests.core.cases.test_cli import run


def test_token_cli_prints_a_token_once(sqlite_url):
    result = run(["core.staff", "create-token", "case-system", "--role", "integration"], sqlite_url)
    assert result.returncode == 0 and result.stdout.startswith("qw_")
