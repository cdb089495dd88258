"""Channels (actions/, api/, bot/) take the texts citizens read from the catalogue (core/texts):
no Chinese sentence in their string literals. Docstrings, comments and log messages may be Chinese;
staff pages (the console) and the integration API are not citizen channels, and a few literals
that only operators read are exempt one by one (OPERATOR_TEXTS).
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
    "bot/wechat/notes.py",  # notes on a ticket when a WeChat message is undeliverable (staff)
)
# Chinese literals that citizens never read, by file: exempt exactly, so any other Chinese
# literal in the same file still fails.
OPERATOR_TEXTS = {
    # Operator hints for WeChat API errors (logged and raised, never sent): "IP白名单" is the
    # name of the setting in WeChat's admin console, so the operator can find it.
    "bot/wechat/client.py": {"this server's IP is not in the account's IP allow-list (IP白名单)"},
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


def citizen_literals(path: Path) -> list[str]:
    """The Chinese literals of a channel file, its exempt operator texts left out."""
    exempt = OPERATOR_TEXTS.get(str(path.relative_to(ROOT)), set())
    return [text for text in chinese_literals(path) if text not in exempt]


def channel_files() -> list[Path]:
    return sorted(
        path
        for package in CHANNELS
        for path in (ROOT / package).rglob("*.py")
        if not str(path.relative_to(ROOT)).startswith(NOT_CITIZEN_FACING)
    )


def test_channels_take_citizen_texts_from_the_catalogue():
    found = {
        str(path.relative_to(ROOT)): literals
        for path in channel_files()
        if (literals := citizen_literals(path))
    }
    assert found == {}, "move these texts to core/texts/zh.yml and en.yml"


def test_operator_exemptions_still_match_the_code():
    # An exemption whose literal is gone would silently exempt nothing: drop it instead.
    stale = {
        (path, text)
        for path, exempt in OPERATOR_TEXTS.items()
        for text in exempt
        if text not in chinese_literals(ROOT / path)
    }
    assert stale == set()


def test_the_checker_sees_a_hard_coded_sentence(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text(
        '"""文档。"""\nimport logging\nlogging.getLogger().info("日志")\nTEXT = "您好，请问"\n',
        encoding="utf-8",
    )
    assert chinese_literals(bad) == ["您好，请问"]
