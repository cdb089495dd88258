"""Fixtures for the WeChat channel: the fake WeChat API, settings, a scripted fake Rasa, the
running bot endpoint, and builders for WeChat's XML callbacks."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.wechat.app import Channel, build_channel
from bot.wechat.conversation import Relay
from bot.wechat.menu import load_menu
from bot.wechat.protocol import signed_query
from bot.wechat.server import build_app
from core.conversation.rasa_client import RasaClient
from core.settings import Settings
from tests.bot.wechat.fake_wechat import FakeWeChat
from tests.fakes import FakeRasa

TOKEN = "wx-test-token"
APP_ID = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # WeChat's sample key (not secret)
OPENID = "oUser123"


class ScriptedRasa(FakeRasa):
    """FakeRasa that can be slow and answer given texts with given payloads."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.scripts: dict[str, list[dict[str, Any]]] = {}
        self.delays: dict[str, float] = {}  # message text → extra seconds before answering

    def say(self, text: str, reply: str | None, custom: dict[str, Any]) -> None:
        """Answer `text` with `reply` and the payload `custom`."""
        items: list[dict[str, Any]] = [{"text": reply}] if reply else []
        self.scripts[text] = [*items, {"custom": custom}]

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.delays and request.url.path == "/webhooks/rest/webhook":
            await asyncio.sleep(self.delays.get(json.loads(request.content)["message"], 0))
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            script = self.scripts.get(body["message"])
            if script is not None and not self.down:
                self.received.append(body)
                return httpx.Response(
                    200, json=[{"recipient_id": body["sender"], **i} for i in script]
                )
        return self.handler(request)

    def client(self) -> RasaClient:
        transport = httpx.MockTransport(self.async_handler)
        return RasaClient("http://rasa.test", client=httpx.AsyncClient(transport=transport))


@dataclass
class MutableClock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
async def wechat() -> AsyncIterator[FakeWeChat]:
    """The fake WeChat API server."""
    server = FakeWeChat()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def wx_settings(settings: Settings, wechat: FakeWeChat) -> Settings:
    """WeChat on, in plaintext mode, against the fake API; a fast outbox loop."""
    return settings.model_copy(
        update={
            "wechat_token": SecretStr(TOKEN),
            "wechat_app_id": APP_ID,
            "wechat_app_secret": SecretStr("app-secret"),
            "wechat_api_base": wechat.base,
            "wechat_outbox_interval_s": 0.05,
            "wechat_reply_deadline_s": 2.0,
            "hash_salt": SecretStr("test-salt"),
        }
    )


@pytest.fixture
def menu(kb):
    return load_menu(kb=kb)


def make_channel(settings: Settings, rasa: FakeRasa, kb, sessions, **kwargs: Any) -> Channel:
    """The WeChat channel against the fakes (nothing started)."""
    relay = Relay(rasa.client(), sessions, settings.max_message_chars)
    return build_channel(settings, relay, kb, load_menu(kb=kb), sessions=sessions, **kwargs)


@dataclass
class RunningBot:
    channel: Channel
    url: str
    runner: web.AppRunner
    http: httpx.AsyncClient

    async def post(self, xml: str, query: dict[str, str] | None = None) -> httpx.Response:
        """POST a callback signed with the test Token."""
        return await self.http.post(
            self.url, params=query or signed_query(TOKEN), content=xml.encode("utf-8")
        )

    async def stop(self) -> None:
        await self.channel.bot.drain()
        await self.channel.background.stop()
        await self.runner.cleanup()
        await self.channel.client.aclose()
        await self.http.aclose()


async def start_bot(channel: Channel, *, background: bool = True) -> RunningBot:
    """Serve the channel's endpoint on 127.0.0.1 (and start its outbox loop)."""
    runner = web.AppRunner(build_app(channel.bot, channel.codec))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    if background:
        channel.background.start()
    return RunningBot(
        channel, f"http://127.0.0.1:{port}/wechat", runner, httpx.AsyncClient(timeout=15)
    )


@pytest.fixture
async def running(wx_settings, rasa, kb, sessions) -> AsyncIterator[RunningBot]:
    """The WeChat bot endpoint and its outbox loop, against the fakes."""
    bot = await start_bot(make_channel(wx_settings, rasa, kb, sessions))
    yield bot
    await bot.stop()


_ids = iter(range(10**15, 10**16))


def message_xml(
    msg_type: str, openid: str = OPENID, msg_id: int | None = None, **fields: str
) -> str:
    """A user message as WeChat posts it (plaintext)."""
    extra = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[gh_office]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"{extra}<MsgId>{msg_id or next(_ids)}</MsgId></xml>"
    )


def text_xml(content: str, openid: str = OPENID, msg_id: int | None = None) -> str:
    return message_xml("text", openid, msg_id, Content=content)


_times = iter(range(1_700_000_000, 1_800_000_000))


def event_xml(event: str, openid: str = OPENID, key: str | None = None) -> str:
    """An event as WeChat posts it (no MsgId; sender + CreateTime identify it)."""
    key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[gh_office]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{next(_times)}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{key_xml}</xml>"
    )


def reply_text(response: httpx.Response) -> str | None:
    """The Content of a plaintext passive reply; None for "success" (no reply)."""
    assert response.status_code == 200, response.text
    if response.text == "success":
        return None
    from bot.wechat.protocol import read_xml

    fields = read_xml(response.content)
    assert fields["MsgType"] == "text"
    return fields["Content"]


async def wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
