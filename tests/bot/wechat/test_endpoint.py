"""The api's WeChat endpoint: the GET handshake, the signature on every request, the body cap,
forwarding to the WeChat bot (plaintext and safe mode), 503 when the bot is down, off when
WECHAT_TOKEN is unset."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr

from api.main import create_app
from bot.wechat.protocol import Codec, Query, read_xml, signed_query
from core.conversation.relay import Relay
from core.hashing import wechat_signature
from tests.bot.wechat.conftest import (
    AES_KEY,
    APP_ID,
    OPENID,
    TOKEN,
    make_channel,
    reply_text,
    start_bot,
    text_xml,
)
from tests.bot.wechat.test_protocol import BILLION_LAUGHS, EXTERNAL_ENTITY


@asynccontextmanager
async def api_client(settings, rasa, sessions) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, relay=Relay(rasa.client(), sessions, settings.max_message_chars))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
async def bot_and_api(wx_settings, rasa, kb, sessions):
    """The WeChat bot on 127.0.0.1 and the api forwarding to it."""
    bot = await start_bot(make_channel(wx_settings, rasa, kb, sessions))
    port = bot.url.split(":")[2].split("/")[0]
    settings = wx_settings.model_copy(update={"wechat_listen": f"127.0.0.1:{port}"})
    async with api_client(settings, rasa, sessions) as api:
        yield api
    await bot.stop()


async def test_handshake_echoes_with_the_right_signature(wx_settings, rasa, sessions):
    async with api_client(wx_settings, rasa, sessions) as api:
        ok = await api.get("/wechat", params={**signed_query(TOKEN), "echostr": "87654321"})
        assert (ok.status_code, ok.text) == (200, "87654321")
        wrong = await api.get("/wechat", params={**signed_query("nope"), "echostr": "1"})
        missing = await api.get("/wechat", params={"echostr": "1"})
        assert wrong.status_code == missing.status_code == 403


async def test_endpoint_is_off_without_wechat_token(settings, rasa, sessions):
    async with api_client(settings, rasa, sessions) as api:
        assert (await api.get("/wechat", params={"echostr": "1"})).status_code == 404
        assert (await api.post("/wechat", content=b"<xml/>")).status_code == 404


async def test_post_with_a_wrong_or_missing_signature_is_403(bot_and_api, rasa):
    wrong = await bot_and_api.post("/wechat", params=signed_query("nope"), content=text_xml("hi"))
    missing = await bot_and_api.post("/wechat", content=text_xml("hi"))
    assert wrong.status_code == missing.status_code == 403
    assert rasa.received == []


async def test_text_message_is_answered_through_the_api(bot_and_api, rasa):
    response = await bot_and_api.post(
        "/wechat", params=signed_query(TOKEN), content=text_xml("附加证明书怎么办理？")
    )
    assert response.headers["content-type"].startswith("application/xml")
    assert reply_text(response).startswith("答复：附加证明书怎么办理？")
    assert rasa.received[0]["sender"] == f"wx:{OPENID}"


@pytest.mark.parametrize(
    "body",
    [b"<xml><broken", BILLION_LAUGHS.encode(), EXTERNAL_ENTITY.encode(), b"\x00\xff" * 10],
    ids=["malformed", "billion-laughs", "external-entity", "binary"],
)
async def test_bad_xml_through_the_api_is_400_and_the_bot_keeps_working(bot_and_api, rasa, body):
    bad = await bot_and_api.post("/wechat", params=signed_query(TOKEN), content=body)
    assert bad.status_code == 400
    good = await bot_and_api.post("/wechat", params=signed_query(TOKEN), content=text_xml("还在吗"))
    assert reply_text(good).startswith("答复：还在吗")


async def test_oversized_body_is_413(bot_and_api):
    body = b"<xml><Content>" + b"x" * 70_000 + b"</Content></xml>"
    response = await bot_and_api.post("/wechat", params=signed_query(TOKEN), content=body)
    assert response.status_code == 413


async def test_bot_down_answers_503_so_wechat_retries(wx_settings, rasa, sessions):
    settings = wx_settings.model_copy(update={"wechat_listen": "127.0.0.1:9"})
    async with api_client(settings, rasa, sessions) as api:
        response = await api.post("/wechat", params=signed_query(TOKEN), content=text_xml("hi"))
    assert response.status_code == 503


async def test_safe_mode_message_round_trip_through_the_api(wx_settings, rasa, kb, sessions):
    settings = wx_settings.model_copy(update={"wechat_aes_key": SecretStr(AES_KEY)})
    bot = await start_bot(make_channel(settings, rasa, kb, sessions))
    port = bot.url.split(":")[2].split("/")[0]
    settings = settings.model_copy(update={"wechat_listen": f"127.0.0.1:{port}"})
    codec = Codec(TOKEN, APP_ID, AES_KEY)
    # Encrypt a user message the way WeChat does (wechatpy's encrypt_message builds the same
    # <Encrypt>/<MsgSignature>/<TimeStamp>/<Nonce> document WeChat signs).
    encrypted = codec._crypto.encrypt_message(  # type: ignore[union-attr]
        text_xml("领事认证是什么？"), "nonce123", str(int(time.time()))
    )
    fields = read_xml(encrypted)
    params = {
        **signed_query(TOKEN, nonce=fields["Nonce"], timestamp=fields["TimeStamp"]),
        "encrypt_type": "aes",
        "msg_signature": fields["MsgSignature"],
        "openid": OPENID,
    }
    body = f"<xml><ToUserName><![CDATA[gh_office]]></ToUserName><Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>"
    try:
        async with api_client(settings, rasa, sessions) as api:
            response = await api.post("/wechat", params=params, content=body.encode())
            tampered = await api.post(
                "/wechat", params={**params, "msg_signature": "0" * 40}, content=body.encode()
            )
    finally:
        await bot.stop()
    assert tampered.status_code == 403
    assert response.status_code == 200 and "领事认证" not in response.text  # encrypted reply
    reply = read_xml(response.content)
    reply_query = Query(
        signature=wechat_signature(TOKEN, reply["TimeStamp"], reply["Nonce"]),
        timestamp=reply["TimeStamp"],
        nonce=reply["Nonce"],
        encrypt_type="aes",
        msg_signature=reply["MsgSignature"],
    )
    decoded = codec.decode(reply_query, response.content)
    assert decoded.field("Content").startswith("答复：领事认证是什么？")
    assert decoded.field("ToUserName") == OPENID
    assert rasa.received[0]["message"] == "领事认证是什么？"
