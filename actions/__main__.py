"""Run the action server: `python -m actions [--port 5055]` (binds 127.0.0.1 unless SANIC_HOST)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

from actions.server import use_guarded_app
from core.logs import configure_logging
from core.settings import get_settings, require_safe


def warm_up() -> None:
    """Load the KB and build its search indexes, writing the KB embeddings to the cache.

    Run in a short-lived child before serving: after a KB change, embedding every KB question
    takes tens of seconds on 2 cores — on the first citizen's request that ran into Rasa's
    timeout (all first messages of a rush were parked for staff). The child exits, so the
    encoder's memory is not kept twice; the server's worker then reads the cached matrix.
    """
    from core.services import get_dense_index, get_index

    get_index()
    get_dense_index()


def main() -> None:
    """Parse rasa-sdk's arguments, defaulting to this package, warm the caches, and serve
    (only Rasa's calls: actions/server.py). Refuses to start in production with a missing or
    development secret."""
    warnings.filterwarnings("ignore", message=".*compatib.*")
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    require_safe(get_settings(), "action server")
    parser = create_argument_parser()
    parser.prog = "python -m actions"  # rasa-sdk's parser would print "__main__.py"
    args = parser.parse_args(sys.argv[1:])
    use_guarded_app()
    args.actions = args.actions or "actions"
    subprocess.run(
        [sys.executable, "-c", "from actions.__main__ import warm_up; warm_up()"], check=False
    )
    main_from_args(args)


if __name__ == "__main__":
    configure_logging("INFO", "actions")
    main()
