"""`make run`: migrate and seed the app database, start every process, print the URLs.

Each service gets a ✓ line when it answers its health check; a taken port is named with the
process holding it. Ctrl-C (once or repeatedly) or SIGTERM stops every child and its process
group. Embedded defaults: SQLite under var/, in-process lock store.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time

from core.cases import demo
from core.db.migrate import upgrade
from core.settings import get_settings
from scripts.progress import Progress, estimate, fmt_duration, record
from scripts.stack import (
    PROD_ENDPOINTS,
    ROOT,
    PortTaken,
    Service,
    Stack,
    build_stack,
    current_model,
    rasa_store_env,
    serve,
)


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C or until a child process dies."""
    argparse.ArgumentParser(prog="python -m scripts.run", description=__doc__).parse_args(argv)
    settings = get_settings()
    for problem in settings.problems():
        print(f"config: {problem}", file=sys.stderr)
    if settings.problems():
        return 1  # production only (problems() is empty elsewhere); each process checks again
    model = current_model()
    if not model.exists():
        print(f"no model for the current data ({model.name}); run `make train`", file=sys.stderr)
        return 1
    token = (
        settings.rasa_token.get_secret_value() if settings.rasa_token else secrets.token_urlsafe(24)
    )
    endpoints, store_env = ROOT / "endpoints.yml", {}
    if settings.database_url.startswith("postgresql"):
        try:
            store_env = rasa_store_env(
                settings.database_url,
                settings.redis_url,
                action_port=5055,
                tracker_database_url=settings.tracker_database_url,
            )
        except ValueError as exc:
            print(f"config: {exc}", file=sys.stderr)
            return 1
        endpoints = PROD_ENDPOINTS
        print("production stores: PostgreSQL tracker store, Redis lock store")
    bot = settings.telegram_token is not None
    if not bot:
        print("TELEGRAM_TOKEN is not set; Telegram bot disabled")
    wechat = settings.wechat_token is not None
    if not wechat:
        print("WECHAT_TOKEN is not set; WeChat channel disabled")
    stack = build_stack(
        model=model,
        database_url=settings.database_url,
        rasa_token=token,
        endpoints=endpoints,
        log_dir=ROOT / "var" / "log",
        api_port=settings.api_port,
        bot=bot,
        wechat=wechat,
        extra_env=store_env,
    )
    try:
        stack.check_ports()  # before touching the database: a second `make run` stops here
    except PortTaken as exc:
        print(f"✗ cannot start: {exc}", file=sys.stderr)
        return 1
    upgrade(settings.database_url)
    print(f"demo cases: {demo.seed()} added")
    return supervise(stack, settings.api_port)


# Start-up of each service on the 2-core reference machine (first run; later runs use the last
# measured time from var/timings.json).
READY_DEFAULT_S = {"actions": 15.0, "rasa": 45.0, "api": 8.0, "bot": 3.0, "wechat": 3.0}
READY_STATUS = {
    "actions": "warming up (KB indexes from var/cache)",
    "rasa": "loading the model",
    "api": "starting",
}


def supervise(stack: Stack, api_port: int) -> int:
    """Start the services with a status line and a ✓ line for each, print the URLs, run until
    Ctrl-C / SIGTERM or a child's death, and stop everything (scripts/stack.py `serve`)."""
    began = time.monotonic()
    with Progress() as progress:
        tasks = {
            s.name: progress.add(
                s.name,
                estimate(f"ready-{s.name}", READY_DEFAULT_S.get(s.name)),
                READY_STATUS.get(s.name, ""),
            )
            for s in stack.services
        }

        def on_ready(service: Service) -> None:
            record(f"ready-{service.name}", service.ready_s or 0.0)
            progress.done(tasks.pop(service.name), "ready")

        def on_up() -> None:
            took = fmt_duration(time.monotonic() - began)
            since_make = os.environ.get("QIAOWU_MAKE_STARTED", "")
            if since_make.isdigit():
                took += f"; {fmt_duration(time.time() - int(since_make))} since `make` started"
            progress.print(f"""
ready ({took}):
  web chat (demo page)  http://127.0.0.1:{api_port}/
  api docs              http://127.0.0.1:{api_port}/docs
  staff console         http://127.0.0.1:{api_port}/console  (create an admin: .venv/bin/python -m core.staff create-admin NAME)
  Rasa HTTP API         http://127.0.0.1:5005   (token in RASA_TOKEN)
  action server         http://127.0.0.1:5055/health
  logs                  var/log/
Ctrl-C stops everything.""")

        def err(line: str) -> None:
            for task in list(tasks.values()):  # the failure is the message, not the bars
                progress.drop(task)
            tasks.clear()
            progress.print(line, file=sys.stderr)

        code = serve(
            stack, timeout_s=600, on_ready=on_ready, on_up=on_up, out=progress.print, err=err
        )
        for task in list(tasks.values()):
            progress.drop(task)
    left = [s.name for s in stack.alive()]
    if left:
        print(f"✗ still running after the stop: {', '.join(left)}", file=sys.stderr)
        return 1
    print("✓ all services stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
