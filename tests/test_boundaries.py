"""Layering, checked on the source with `ast`:

- actions/, api/ and bot/ import core/ but never each other; core/ imports none of them; app code
  never imports rasa (only rasa_sdk); each messaging app (bot/<app>/) imports no other app.
- Inside core/, each capability package imports only what its `__init__` docstring allows
  (CORE_ALLOWED below), and neither the packages nor the modules import each other in a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": {"actions", "api", "bot", "rasa", "scripts"},
    "actions": {"api", "bot", "rasa"},
    "api": {"actions", "bot", "rasa"},
    "bot": {"actions", "api", "rasa"},
}
# The shared modules every capability may use; they import no capability.
SHARED = {
    "settings", "db", "text", "logs", "metrics", "hashing", "redaction", "texts", "encoder",
}  # fmt: skip
# What each top-level part of core/ may import (besides itself). `services` builds the cached
# process resources (KB, indexes, safety check, session factory) for the entry points; no part
# of core/ imports it.
CORE_ALLOWED: dict[str, set[str]] = {
    "settings": set(),
    "text": set(),
    "texts": set(),
    "logs": set(),
    "hashing": set(),
    "redaction": set(),
    "encoder": {"redaction"},
    "metrics": set(),
    "db": {"settings"},
    "kb": {"settings", "db", "text", "hashing", "texts", "encoder", "redaction"},
    "services": {"settings", "db", "kb", "conversation"},
    "staff": SHARED,
    "notify": SHARED | {"kb"},
    "handoff": SHARED | {"notify"},
    "cases": SHARED | {"notify"},
    "conversation": SHARED | {"kb", "handoff", "notify", "cases"},
    "retention": SHARED | {"cases"},
}
CAPABILITIES = ("kb", "staff", "notify", "handoff", "cases", "conversation", "retention")


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a file imports (absolute imports only)."""
    return {name.split(".")[0] for name in imported_modules(path)}


def imported_modules(path: Path, *, module_level_only: bool = False) -> set[str]:
    """Dotted names a file imports: `import a.b` → a.b, `from a.b import c` → a.b and a.b.c."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_part(dotted: str) -> str | None:
    """`core.cases.rules` → "cases"; None outside core (and for `core` itself)."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == "core" and len(parts) > 1 else None


def core_files() -> list[Path]:
    return sorted(p for p in (ROOT / "core").rglob("*.py") if "migrations" not in p.parts)


def core_graph() -> dict[str, set[str]]:
    """Which top-level part of core/ imports which other parts."""
    graph: dict[str, set[str]] = {}
    for path in core_files():
        source = core_part(module_name(path))
        if source is None:
            continue
        targets = {core_part(name) for name in imported_modules(path)}
        graph.setdefault(source, set()).update(t for t in targets if t and t != source)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_boundaries(package):
    violations = [
        f"{path.relative_to(ROOT)} imports {bad}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for bad in imported_roots(path) & FORBIDDEN[package]
    ]
    assert violations == []


def test_messaging_apps_do_not_import_each_other():
    apps = sorted(p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists())
    violations = [
        f"{path.relative_to(ROOT)} imports bot.{other}"
        for app in apps
        for path in sorted((ROOT / "bot" / app).rglob("*.py"))
        for other in apps
        if other != app
        and any(
            n == f"bot.{other}" or n.startswith(f"bot.{other}.") for n in imported_modules(path)
        )
    ]
    assert "telegram" in apps and violations == []


def test_core_parts_import_only_what_they_may():
    graph = core_graph()
    unknown = sorted(set(graph) - set(CORE_ALLOWED))
    violations = sorted(
        f"core.{part} imports core.{target}"
        for part, targets in graph.items()
        for target in targets - CORE_ALLOWED.get(part, set())
    )
    assert unknown == [] and violations == []


def test_allowed_core_graph_has_no_cycle():
    assert find_cycle(CORE_ALLOWED) is None


def test_core_packages_import_each_other_without_cycles():
    assert find_cycle(core_graph()) is None


def test_core_modules_have_no_import_cycle_at_import_time():
    modules = {module_name(p): p for p in core_files()}
    graph = {
        name: {
            target
            for target in imported_modules(path, module_level_only=True)
            if target in modules and target != name
        }
        for name, path in modules.items()
    }
    assert find_cycle(graph) is None


def test_every_capability_says_what_it_may_import():
    missing = [
        name
        for name in CAPABILITIES
        if "may import" not in " ".join((ast.get_docstring(ast.parse(
            (ROOT / "core" / name / "__init__.py").read_text(encoding="utf-8")
        )) or "").lower().split())
    ]  # fmt: skip
    assert missing == []


def named_imports(name: str) -> set[str]:
    """The capabilities a capability's `__init__` docstring names after "May import"."""
    tree = ast.parse((ROOT / "core" / name / "__init__.py").read_text(encoding="utf-8"))
    after = " ".join((ast.get_docstring(tree) or "").split()).partition("May import")[2]
    return set(re.findall(r"core\.(\w+)", after)) & set(CAPABILITIES)


def test_each_capability_docstring_names_exactly_the_capabilities_it_may_import():
    # The docstring is CORE_ALLOWED in words (the shared modules go without saying).
    wrong = {
        name: sorted(named_imports(name))
        for name in CAPABILITIES
        if named_imports(name) != CORE_ALLOWED[name] - SHARED
    }
    assert wrong == {}


def test_readme_table_lists_every_capability_with_what_it_may_import():
    rows = re.findall(
        r"^\s*\| `core/(\w+)/` \|.*\| ([\w, ]+) \|$",
        (ROOT / "README.md").read_text(encoding="utf-8"),
        re.M,
    )
    table = {name: set(allowed.split(", ")) - {"shared"} for name, allowed in rows}
    assert table == {name: CORE_ALLOWED[name] - SHARED for name in CAPABILITIES}


def test_checker_sees_a_violation(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from api.main import create_app\nimport rasa.core\n", encoding="utf-8")
    assert {"api", "rasa"} <= imported_roots(bad)


def test_cycle_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_edits_sys_path():
    # The app is an installed package (pyproject.toml) and the stdlib-only scripts run as
    # `python -m scripts.…` from the root: nothing needs to add itself to the import path.
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("core", "api", "bot", "actions", "rasa_addons", "scripts", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"sys\.path\.(insert|append)|sys\.path\s*\+?=", path.read_text("utf-8"))
        and path.name != "test_boundaries.py"
    ]
    assert offenders == []
