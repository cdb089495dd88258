"""`python -m core.kb validate [KB_DIR] | sample [KB_DIR] [OUT_DIR] | countries import PAGE.html`:
check the knowledge base, regenerate the Rasa FAQ training sample from it (`generate` is the
old name of `sample`), or compare kb/countries.yml with a saved HCCH status table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.kb.countries import PATH_ENTRY, freshness_warning, load_countries
from core.kb.generate import write_training_data
from core.kb.loader import KBError, load_kb


def main(argv: list[str] | None = None) -> int:
    """Validate the KB, or regenerate the Rasa FAQ data from it."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["countries"]:  # `countries import <page.html>`: core/kb/hcch.py
        from core.kb.hcch import main as countries_main

        return countries_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m core.kb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="load and check every entry")
    validate.add_argument("kb_dir", nargs="?", type=Path, default=Path("kb"))
    for name in ("sample", "generate"):  # `generate`: the old name of `sample`
        sample = commands.add_parser(
            name, help="write data/nlu/faq.yml: a sample of KB questions for the faq intent"
        )
        sample.add_argument("kb_dir", nargs="?", type=Path, default=Path("kb"))
        sample.add_argument("out_dir", nargs="?", type=Path, default=Path("data"))
    args = parser.parse_args(argv)
    try:
        kb = load_kb(args.kb_dir)
        table = load_countries(args.kb_dir / "countries.yml")
    except KBError as exc:
        print(exc, file=sys.stderr)
        return 1
    for kb_id in PATH_ENTRY.values():
        if kb_id not in kb.entries:
            print(f"countries routing needs KB entry {kb_id!r}", file=sys.stderr)
            return 1
    warning = freshness_warning(table)  # a warning line, not a failure
    if warning:
        print(warning, file=sys.stderr)
    if args.command == "validate":
        print(f"kb ok: {len(kb.entries)} entries, {len(table.countries)} countries")
        return 0
    for path in write_training_data(kb, args.out_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
