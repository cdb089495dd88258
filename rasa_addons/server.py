"""`python -m rasa_addons.server run …`: Rasa's command line, with its HTTP API token kept out of
command lines and URLs.

- The token is read from the RASA_TOKEN environment variable and handed to Rasa inside this
  process (`--auth-token` added to `sys.argv` here is not what `ps` or /proc/<pid>/cmdline show:
  those keep the original arguments).
- Rasa 3.6 accepts the token only as `?token=` in the URL, which lands in access logs and proxy
  logs. Here its `requires_auth` decorator is replaced before the server is built: the token must
  come as `Authorization: Bearer <token>` (compared in constant time); `?token=` is refused.
"""

from __future__ import annotations

import hmac
import os
import sys
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from inspect import isawaitable
from typing import Any


def header_requires_auth(app: Any, token: str | None = None) -> Callable[[Any], Any]:
    """Rasa's `requires_auth`, reading the token from the Authorization header only."""
    from rasa.server import ErrorResponse

    expected = token.encode() if token else None

    def decorator(f: Any) -> Any:
        @wraps(f)
        async def decorated(request: Any, *args: Any, **kwargs: Any) -> Any:
            given = request.headers.get("Authorization", "")
            if (
                expected is not None
                and given.startswith("Bearer ")
                and hmac.compare_digest(given[len("Bearer ") :].strip().encode(), expected)
            ):
                result = f(request, *args, **kwargs)
                return await result if isawaitable(result) else result
            raise ErrorResponse(
                HTTPStatus.UNAUTHORIZED,
                "NotAuthenticated",
                "User is not authenticated. Send the token as 'Authorization: Bearer <token>'.",
            )

        return decorated

    return decorator


def main() -> None:
    """Patch the auth decorator, add the token from the environment, run Rasa's CLI."""
    import rasa.server
    from rasa.__main__ import main as rasa_main

    rasa.server.requires_auth = header_requires_auth  # type: ignore[assignment]
    sys.argv = ["rasa", *with_token(sys.argv[1:], os.environ.get("RASA_TOKEN"))]
    rasa_main()


def with_token(args: list[str], token: str | None) -> list[str]:
    """`rasa run` arguments with the environment's token added (unless one is given). As one
    argument: a token starting with "-" (secrets.token_urlsafe gives one in 64) would otherwise
    be read as an option, and Rasa would refuse to start."""
    given = any(a == "--auth-token" or a.startswith("--auth-token=") for a in args)
    if token and args[:1] == ["run"] and not given:
        return [*args, f"--auth-token={token}"]
    return args


if __name__ == "__main__":
    main()
