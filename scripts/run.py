"""`make run`: migrate and seed the app database, start every process, print the URLs.

Ctrl-C stops all children. Embedded defaults: SQLite under var/, in-process lock store.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import time

from core.cases import demo
from core.db.migrate import upgrade
from core.settings import get_settings
from scripts.stack import PROD_ENDPOINTS, ROOT, build_stack, current_model, rasa_store_env


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
    upgrade(settings.database_url)
    print(f"demo cases: {demo.seed()} added")
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
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        print("starting (Rasa needs about 1-2 minutes to load the model) …")
        stack.up(timeout_s=600, progress=lambda line: print(f"  {line}"))
        print(f"""
ready:
  web chat (demo page)  http://127.0.0.1:{settings.api_port}/
  api docs              http://127.0.0.1:{settings.api_port}/docs
  staff console         http://127.0.0.1:{settings.api_port}/console  (create an admin: .venv/bin/python -m core.staff create-admin NAME)
  Rasa HTTP API         http://127.0.0.1:5005   (token in RASA_TOKEN)
  action server         http://127.0.0.1:5055/health
  logs                  var/log/
Ctrl-C stops everything.""")
        while all(s.proc is not None and s.proc.poll() is None for s in stack.services):
            time.sleep(1)
        dead = [s.name for s in stack.services if s.proc is not None and s.proc.poll() is not None]
        print(f"stopped: {', '.join(dead)} exited; see var/log/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping …")
        return 0
    except RuntimeError as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.down()


if __name__ == "__main__":
    sys.exit(main())
