"""Build the WeChat channel from settings (used by `python -m bot.wechat` and by tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.wechat.client import WeChatClient
from bot.wechat.conversation import Clock, Relay, utcnow
from bot.wechat.handler import WeChatBot
from bot.wechat.menu import Menu
from bot.wechat.outbox import OutboxDeliverer, build_background
from bot.wechat.protocol import Codec
from core.kb.loader import KnowledgeBase
from core.notify.background import Background, DailyTips
from core.settings import Settings


def config_problems(settings: Settings) -> list[str]:
    """What is missing to run the WeChat channel, as operator-readable lines."""
    found = []
    if settings.wechat_token is None:
        found.append("WECHAT_TOKEN is not set; WeChat channel disabled")
    if not settings.wechat_app_id or settings.wechat_app_secret is None:
        found.append("WECHAT_APP_ID / WECHAT_APP_SECRET are not set; the bot could not send")
    key = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None
    if key is not None and len(key) != 43:
        found.append("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
    return found


def build_codec(settings: Settings) -> Codec:
    """The protocol codec (Token, AppID, EncodingAESKey) from settings."""
    assert settings.wechat_token is not None
    key = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None
    return Codec(settings.wechat_token.get_secret_value(), settings.wechat_app_id, key)


@dataclass
class Channel:
    """The parts of a running WeChat channel."""

    bot: WeChatBot
    codec: Codec
    client: WeChatClient
    background: Background


def build_channel(
    settings: Settings,
    relay: Relay,
    kb: KnowledgeBase,
    menu: Menu,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock = utcnow,
    http: httpx.AsyncClient | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> Channel:
    """Bot, codec, API client and background loop, wired together."""
    sessions = sessions or relay.sessions
    assert settings.wechat_app_id and settings.wechat_app_secret is not None
    client_kwargs: dict[str, Any] = {
        "api_base": settings.wechat_api_base,
        "http": http,
        "clock": clock,
    }
    if sleep is not None:
        client_kwargs["sleep"] = sleep
    client = WeChatClient(
        settings.wechat_app_id,
        settings.wechat_app_secret.get_secret_value(),
        sessions,
        **client_kwargs,
    )
    deliverer = OutboxDeliverer(
        client,
        sessions,
        clock,
        settings.wechat_outbox_max_attempts,
        template_id=settings.wechat_template_id,
        template_fields=dict(settings.wechat_template_fields),
        timezone=settings.daily_tip_timezone,
    )
    tips = DailyTips(sessions, kb, clock, settings.daily_tip_time, settings.daily_tip_timezone)
    background = build_background(deliverer, tips, settings.wechat_outbox_interval_s)
    bot = WeChatBot(
        relay,
        sessions,
        kb,
        menu,
        salt=settings.hash_salt.get_secret_value(),
        deadline_s=settings.wechat_reply_deadline_s,
        tip_time=settings.daily_tip_time.strftime("%H:%M"),
        tip_timezone=settings.daily_tip_timezone,
        max_attempts=settings.wechat_outbox_max_attempts,
        clock=clock,
        on_queued=background.wake,
    )
    return Channel(bot, build_codec(settings), client, background)
