"""The action server's web app: rasa-sdk's, accepting calls only from Rasa.

Rasa sends the shared ACTION_SERVER_SECRET in an `X-Action-Secret` header (endpoints.yml:
`action_endpoint.headers`); every request but `/health` without it gets 401, before any action
runs — otherwise anyone reaching the port could run actions with a made-up tracker (set slots,
open tickets, subscribe to a case). Errors answer `{"error": "internal"}`: rasa-sdk's own handler
echoes the request body (the citizen's messages) back to the caller, and Rasa logs it.

`python -m actions` installs this factory in place of rasa-sdk's (`use_guarded_app`); Sanic's
worker processes re-create the app from it, so the check holds in every worker.
"""

from __future__ import annotations

import hmac
from typing import Any

from rasa_sdk import endpoint
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.settings import get_settings

SECRET_HEADER = "X-Action-Secret"
OPEN_PATHS = frozenset({"/health"})
_original_factory = endpoint.create_app_for_serve


def guard(app: Sanic[Any, Any], secret: str | None) -> Sanic[Any, Any]:
    """Add the shared-secret check and the body-free error handler to a rasa-sdk app."""
    if secret:
        expected = secret.encode()

        @app.on_request
        async def _only_from_rasa(request: Request) -> HTTPResponse | None:
            if request.path in OPEN_PATHS:
                return None
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not hmac.compare_digest(given, expected):
                return response.json({"error": "unauthorized"}, status=401)
            return None

    # Sanic annotates on_request but not on_response, so mypy sees an untyped decorator.
    @app.on_response  # type: ignore[untyped-decorator]
    async def _no_echo(_: Request, answer: HTTPResponse) -> HTTPResponse | None:
        # rasa-sdk's handler for unexpected errors answers {"error", "request_body": <the
        # tracker>}; Rasa logs that body. Keep only the status.
        if answer.status >= 500:
            return response.json({"error": "internal"}, status=answer.status)
        return None

    return app


def create_guarded_app(action_executor: Any, *args: Any, **kwargs: Any) -> Sanic[Any, Any]:
    """rasa-sdk's app factory with `guard` applied (secret from ACTION_SERVER_SECRET)."""
    secret = get_settings().action_server_secret
    app = _original_factory(action_executor, *args, **kwargs)
    return guard(app, secret.get_secret_value() if secret else None)


def use_guarded_app() -> None:
    """Make rasa-sdk's `run` build its app (in every worker) with `create_guarded_app`."""
    endpoint.create_app_for_serve = create_guarded_app
