"""Run the action server: `python -m actions [--port 5055]` (binds 127.0.0.1 unless SANIC_HOST)."""

from __future__ import annotations

import os
import sys
import warnings

from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

from core.logs import configure_logging


def main() -> None:
    """Parse rasa-sdk's arguments, defaulting to this package, and serve."""
    warnings.filterwarnings("ignore", message=".*compatib.*")
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    args = create_argument_parser().parse_args(sys.argv[1:])
    args.actions = args.actions or "actions"
    main_from_args(args)


if __name__ == "__main__":
    configure_logging("INFO", "actions")
    main()
