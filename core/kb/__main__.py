"""`python -m core.kb validate|generate [kb_dir] [out_dir]`; `countries import <page.html>`."""

from __future__ import annotations

import sys
from pathlib import Path

from core.kb.countries import PATH_ENTRY, freshness_warning, load_countries
from core.kb.generate import write_training_data
from core.kb.loader import KBError, load_kb


def main(argv: list[str]) -> int:
    """Validate the KB, or regenerate the Rasa FAQ data from it."""
    command = argv[0] if argv else "validate"
    if command == "countries":  # `countries import <page.html>`: core/kb/hcch.py
        from core.kb.hcch import main as countries_main

        return countries_main(argv[1:])
    kb_dir = Path(argv[1]) if len(argv) > 1 else Path("kb")
    try:
        kb = load_kb(kb_dir)
        table = load_countries(kb_dir / "countries.yml")
    except KBError as exc:
        print(exc, file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    for kb_id in PATH_ENTRY.values():
        if kb_id not in kb.entries:
            print(f"countries routing needs KB entry {kb_id!r}", file=sys.stderr)  # noqa: T201
            return 1
    warning = freshness_warning(table)  # a warning line, not a failure
    if warning:
        print(warning, file=sys.stderr)  # noqa: T201
    if command == "validate":
        print(f"kb ok: {len(kb.entries)} entries, {len(table.countries)} countries")  # noqa: T201
        return 0
    if command == "generate":
        out = Path(argv[2]) if len(argv) > 2 else Path("data")
        for path in write_training_data(kb, out):
            print(f"wrote {path}")  # noqa: T201
        return 0
    print(f"unknown command {command!r}; use validate or generate", file=sys.stderr)  # noqa: T201
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
