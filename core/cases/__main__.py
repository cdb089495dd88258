"""`python -m core.cases import FILE.csv | purge [--days N] | seed`: case data for operators."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from core.cases import demo
from core.cases.importer import ImportRejected, import_cases, parse_csv, read_csv
from core.cases.sync import purge_closed
from core.db.engine import configured_sessions, session_scope
from core.logs import configure_logging
from core.settings import get_settings

logger = logging.getLogger("core.cases")


def _import(path: Path) -> int:
    try:
        rows = parse_csv(read_csv(path))
    except ImportRejected as rejected:
        for error in rejected.errors:
            print(error, file=sys.stderr)
        print(f"{len(rejected.errors)} error(s); nothing imported", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc.__class__.__name__}", file=sys.stderr)
        return 1
    settings = get_settings()
    with session_scope(configured_sessions()) as session:
        counts = import_cases(
            session, rows, settings.hash_salt.get_secret_value(), dt.datetime.now(dt.UTC)
        )
    print(
        f"imported {len(rows)} row(s): {counts['created']} created, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged"
    )
    return 0


def _purge(days: int) -> int:
    with session_scope(configured_sessions()) as session:
        counts = purge_closed(session, dt.datetime.now(dt.UTC), days)
    logger.info("cases_purged", extra={"event": "cases_purged", "count": counts["cases"]})
    print(
        f"purged {counts['cases']} closed case(s) and {counts['events']} event(s) "
        f"older than {days} days"
    )
    return 0


def _seed() -> int:
    print(f"demo cases: {demo.seed()} added")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the command."""
    parser = argparse.ArgumentParser(prog="python -m core.cases", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="validate a CSV file, then import all rows or none")
    imp.add_argument("file", type=Path)
    purge = commands.add_parser("purge", help="delete closed cases past the retention period")
    purge.add_argument("--days", type=int, default=None, help="default: CASE_RETENTION_DAYS")
    commands.add_parser("seed", help="add the demo cases that are missing (make run)")
    args = parser.parse_args(argv)
    configure_logging("INFO", "core")
    if args.command == "import":
        return _import(args.file)
    if args.command == "seed":
        return _seed()
    return _purge(args.days if args.days is not None else get_settings().case_retention_days)


if __name__ == "__main__":
    sys.exit(main())
