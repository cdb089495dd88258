"""`python -m core.retention purge`: delete what is past its retention period, once (the api
also does it daily, RETENTION_INTERVAL_S). Prints the counts per table; docs/data.md lists the
periods and their settings."""

from __future__ import annotations

import argparse
import json
import sys

from core.logs import configure_logging
from core.retention.job import run_purge
from core.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the command."""
    parser = argparse.ArgumentParser(prog="python -m core.retention", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("purge", help="delete expired rows now and print the counts")
    parser.parse_args(argv)
    counts = run_purge(get_settings())
    print(json.dumps(counts, sort_keys=True))
    return 0


if __name__ == "__main__":
    configure_logging("INFO")
    sys.exit(main())
