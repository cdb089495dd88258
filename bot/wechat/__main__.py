"""`python -m bot.wechat`: the WeChat Official Account channel.

python -m bot.wechat              serve WeChat callbacks on WECHAT_LISTEN (the api forwards
                                  them) and deliver outbox rows and daily tips
python -m bot.wechat menu         push bot/wechat/menu.yml as the account's custom menu
python -m bot.wechat menu --check validate the menu file only (no WeChat call)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from aiohttp import web

from bot.wechat.app import build_channel, config_problems
from bot.wechat.client import Transient, WeChatClient, WeChatError
from bot.wechat.conversation import build_relay
from bot.wechat.menu import MENU_FILE, MenuError, load_menu
from bot.wechat.server import build_app, split_listen
from core.db.engine import get_engine, session_factory
from core.logs import configure_logging, start_refused
from core.services import get_kb, handoff_hours, title_en
from core.settings import Settings, get_settings, require_safe

logger = logging.getLogger("bot.wechat")


async def serve(settings: Settings) -> int:
    """Run until interrupted."""
    require_safe(settings, "WeChat bot")
    if start_refused(logger, config_problems(settings), "wechat_disabled"):
        return 2
    relay = build_relay(settings, handoff_hours=handoff_hours, title_en=title_en)
    kb = get_kb()
    channel = build_channel(settings, relay, kb, load_menu(kb=kb))
    runner = web.AppRunner(build_app(channel.bot, channel.codec))
    await runner.setup()
    host, port = split_listen(settings.wechat_listen)
    await web.TCPSite(runner, host, port).start()
    channel.background.start()
    logger.info("wechat_ready", extra={"event": "wechat_ready"})
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await channel.bot.drain()
        await channel.background.stop()
        await channel.client.aclose()
        await relay.aclose()
    return 0


async def push_menu(settings: Settings, path: Path, check_only: bool) -> int:
    """Validate the menu file and (unless `check_only`) make it the account's menu."""
    try:
        menu = load_menu(path, kb=get_kb())
    except (MenuError, OSError) as exc:
        print(f"menu file {path}: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    if check_only:
        print(json.dumps(menu.wechat_json(), ensure_ascii=False, indent=2))  # noqa: T201
        return 0
    if not settings.wechat_app_id or settings.wechat_app_secret is None:
        print("WECHAT_APP_ID and WECHAT_APP_SECRET are needed to push the menu", file=sys.stderr)  # noqa: T201
        return 2
    sessions = session_factory(get_engine(settings.database_url))
    client = WeChatClient(
        settings.wechat_app_id,
        settings.wechat_app_secret.get_secret_value(),
        sessions,
        api_base=settings.wechat_api_base,
    )
    try:
        await client.create_menu(menu.wechat_json())
    except (WeChatError, Transient) as exc:
        print(f"WeChat refused the menu: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        await client.aclose()
    print("menu pushed; WeChat shows it to followers within a few minutes")  # noqa: T201
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.wechat")
    sub = parser.add_subparsers(dest="command")
    menu = sub.add_parser("menu", help="push the custom menu")
    menu.add_argument("--file", type=Path, default=MENU_FILE)
    menu.add_argument("--check", action="store_true", help="validate and print, do not push")
    args = parser.parse_args(argv)
    configure_logging("INFO")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the access_token
    settings = get_settings()
    if args.command == "menu":
        return asyncio.run(push_menu(settings, args.file, args.check))
    return asyncio.run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
