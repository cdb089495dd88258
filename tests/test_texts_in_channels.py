"""Channels (actions/, api/, bot/) take the texts citizens read from the catalogue (core/texts):
no Chinese sentence in their string literals. Docstrings, comments and log messages may be Chinese;
staff pages (the console) and the integration API are not citizen channels.

PENDING lists the files still to move (with how many literals): the count may only go down.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ("actions", "api", "bot")
NOT_CITIZEN_FACING = (
    "api/routes/console/",  # staff console (its own zh/en texts: api/routes/console/i18n.py)
    "api/routes/cases.py",  # the office systems' integration API
    "api/metrics.py",  # /metrics, for operators
    "api/main.py",  # the OpenAPI title
)
# Files not yet moved to the catalogue: path → number of Chinese literals today.
PENDING = {
    "bot/wechat/client.py": 2,
    "bot/wechat/handler.py": 1,
    "bot/wechat/texts.py": 50,
}
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
REGEX_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "findall", "finditer", "split"}


def docstrings_and_logs(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings, log messages or regular expressions."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            skip.add(id(body[0].value))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
        ):
            skip.update(id(n) for arg in node.args[:1] for n in ast.walk(arg))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in REGEX_FUNCTIONS
        ):
            skip.update(id(n) for arg in node.args[:1] for n in ast.walk(arg))
    return skip


def chinese_literals(path: Path) -> list[str]:
    """String literals with Chinese characters, docstrings and log messages excepted."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings_and_logs(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and CJK.search(node.value)
    ]


def channel_files() -> list[Path]:
    return sorted(
        path
        for package in CHANNELS
        for path in (ROOT / package).rglob("*.py")
        if not str(path.relative_to(ROOT)).startswith(NOT_CITIZEN_FACING)
    )


def test_channels_take_citizen_texts_from_the_catalogue():
    found = {
        str(path.relative_to(ROOT)): len(literals)
        for path in channel_files()
        if (literals := chinese_literals(path))
    }
    over = {p: n for p, n in found.items() if n > PENDING.get(p, 0)}
    assert over == {}, "move these texts to core/texts/zh.yml and en.yml"


def test_pending_list_only_shrinks():
    found = {str(p.relative_to(ROOT)): len(chinese_literals(p)) for p in channel_files()}
    stale = {p: (n, found.get(p, 0)) for p, n in PENDING.items() if found.get(p, 0) < n}
    assert stale == {}, "lower PENDING to the new counts (or drop the file)"


def test_the_checker_sees_a_hard_coded_sentence(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text(
        '"""文档。"""\nimport logging\nlogging.getLogger().info("日志")\nTEXT = "您好，请问"\n',
        encoding="utf-8",
    )
    assert chinese_literals(bad) == ["您好，请问"]
