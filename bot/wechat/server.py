"""The WeChat bot's private HTTP endpoint: the api forwards WeChat's callbacks here.

WeChat → api `GET/POST /wechat` (public; checks the signature, answers the GET handshake itself)
→ this endpoint on WECHAT_LISTEN (localhost; checks the signature again, decrypts, dedupes,
answers within the five seconds) → the response goes back through the api to WeChat. The api
and the bot never import each other; they share only core.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.wechat import texts
from bot.wechat.handler import WeChatBot
from bot.wechat.protocol import MAX_BODY_BYTES, BadMessage, BadSignature, Codec, Query

logger = logging.getLogger(__name__)
PATH = "/wechat"


def build_app(bot: WeChatBot, codec: Codec) -> web.Application:
    """aiohttp app answering WeChat callbacks."""

    async def callback(request: web.Request) -> web.Response:
        query = Query.from_mapping(request.query)
        try:
            if request.method == "GET":
                return web.Response(text=codec.echo(query), content_type="text/plain")
            body = await request.read()
            inbound = codec.decode(query, body)
        except BadSignature:
            logger.warning("wechat_forbidden", extra={"event": "wechat_forbidden"})
            return web.Response(status=403, text="Forbidden")
        except BadMessage as exc:
            logger.warning(
                "wechat_bad_message", extra={"event": "wechat_bad_message", "error": str(exc)}
            )
            return web.Response(status=400, text="Bad Request")
        try:
            text = await bot.respond(inbound)
        except Exception:  # never a 500 to WeChat (its user would see "service unavailable")
            logger.exception("wechat_respond_failed", extra={"event": "wechat_respond_failed"})
            text = texts.text("unavailable")  # the turn failed before its language was known
        reply, content_type = codec.reply(inbound, text, query)
        return web.Response(text=reply, content_type=content_type, charset="utf-8")

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_route("GET", PATH, callback)
    app.router.add_route("POST", PATH, callback)
    return app


def split_listen(listen: str) -> tuple[str, int]:
    """`host:port` → (host, port)."""
    host, _, port = listen.rpartition(":")
    return host or "127.0.0.1", int(port)
