"""`python -m core.db upgrade [--revision REV]`: migrate DATABASE_URL (each release)."""

from __future__ import annotations

import argparse
import sys

from core.db.migrate import upgrade
from core.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the command."""
    parser = argparse.ArgumentParser(prog="python -m core.db", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upgrade", help="apply the Alembic migrations to DATABASE_URL")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    upgrade(get_settings().database_url, args.revision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
