"""`python -m core.cases import FILE.csv` and `python -m core.cases purge [--days N]`."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from core.case_admin import ImportRejected, import_cases, parse_csv, purge_closed, read_csv
from core.db.engine import session_scope
from core.logs import configure_logging
from core.services import get_sessionmaker
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
    with session_scope(get_sessionmaker()) as session:
        counts = import_cases(
            session, rows, settings.hash_salt.get_secret_value(), dt.datetime.now(dt.UTC)
        )
    print(
        f"imported {len(rows)} row(s): {counts['created']} created, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged"
    )
    return 0


def _purge(days: int) -> int:
    with session_scope(get_sessionmaker()) as session:
        counts = purge_closed(session, dt.datetime.now(dt.UTC), days)
    logger.info("cases_purged", extra={"event": "cases_purged", "count": counts["cases"]})
    print(
        f"purged {counts['cases']} closed case(s) and {counts['events']} event(s) "
        f"older than {days} days"
    )
    return 0


def main(argv: list[str]) -> int:
    """Parse arguments and run the command."""
    parser = argparse.ArgumentParser(prog="python -m core.cases")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="validate a CSV file, then import all rows or none")
    imp.add_argument("file", type=Path)
    purge = commands.add_parser("purge", help="delete closed cases past the retention period")
    purge.add_argument("--days", type=int, default=None)
    args = parser.parse_args(argv)
    configure_logging("INFO", "core")
    if args.command == "import":
        return _import(args.file)
    return _purge(args.days if args.days is not None else get_settings().case_retention_days)
