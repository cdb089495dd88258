"""The action server's web app: rasa-sdk's, accepting calls only from Rasa.

Rasa sends the shared ACTION_SERVER_SECRET in an `X-Action-Secret` header (endpoints.yml:
`action_endpoint.headers`); every request but `/health` without it gets 401, before any action
runs — otherwise anyone reaching the port could run actions with a made-up tracker (set slots,
open tickets, subscribe to a case). Errors answer `{"error": "internal"}`: rasa-sdk's own handler
echoes the request body (the citizen's messages) back to the caller, and Rasa logs it.

`python -m actions` installs this factory in place of rasa-sdk's (`use_guarded_app`), so the check
holds in every worker; one worker (the default) is served in the started process itself.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from rasa_sdk import __main__ as sdk_main
from rasa_sdk import endpoint, utils
from rasa_sdk.executor import ActionExecutor
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
    """Make rasa-sdk's `run` build its app (in every worker) with `create_guarded_app`, and
    serve one worker in this process (`serve`)."""
    endpoint.create_app_for_serve = create_guarded_app
    sdk_main.run = serve


def serve(
    action_executor: ActionExecutor,
    port: int = endpoint.DEFAULT_SERVER_PORT,
    cors_origins: str | list[str] | None = "*",
    ssl_certificate: str | None = None,
    ssl_keyfile: str | None = None,
    ssl_password: str | None = None,
    auto_reload: bool = False,
    endpoints: str = endpoint.DEFAULT_ENDPOINTS_PATH,
    keep_alive_timeout: int = endpoint.DEFAULT_KEEP_ALIVE_TIMEOUT,
) -> None:
    """rasa-sdk's `run`, but with one worker (ACTION_SERVER_SANIC_WORKERS unset or 1) served in this
    process: rasa-sdk's Sanic.serve keeps a manager process that has imported every action
    (and the KB code) next to the worker that serves — about 170 MB of RSS doing nothing
    (docs/benchmarks.md). More workers are served as rasa-sdk serves them."""
    if utils.number_of_sanic_workers() != 1:
        endpoint.run(
            action_executor,
            port,
            cors_origins,
            ssl_certificate,
            ssl_keyfile,
            ssl_password,
            auto_reload,
            endpoints,
            keep_alive_timeout,
        )
        return
    app = create_guarded_app(
        action_executor,
        cors_origins=cors_origins,
        auto_reload=False,
        endpoints=endpoints,
        keep_alive_timeout=keep_alive_timeout,
    )
    ssl = endpoint.create_ssl_config(ssl_certificate, ssl_keyfile, ssl_password)
    app.prepare(host=os.environ.get("SANIC_HOST", "127.0.0.1"), port=port, ssl=ssl, workers=1)
    Sanic.serve_single(primary=app)
