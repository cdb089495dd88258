"""actions/, api/ and bot/ import core/ but never each other; core/ imports none of them;
app code never imports rasa (only rasa_sdk)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": {"actions", "api", "bot", "rasa", "scripts"},
    "actions": {"api", "bot", "rasa"},
    "api": {"actions", "bot", "rasa"},
    "bot": {"actions", "api", "rasa"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_boundaries(package):
    violations = [
        f"{path.relative_to(ROOT)} imports {bad}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for bad in imported_roots(path) & FORBIDDEN[package]
    ]
    assert violations == []


def test_checker_sees_a_violation(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from api.main import create_app\nimport rasa.core\n", encoding="utf-8")
    assert {"api", "rasa"} <= imported_roots(bad)
