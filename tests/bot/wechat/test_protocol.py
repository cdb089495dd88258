"""WeChat protocol: signatures and safe mode against WeChat's published sample vectors, AES
round trips, and hostile XML refused with BadMessage (never another exception)."""

from __future__ import annotations

import pytest

from bot.wechat.protocol import (
    MAX_BODY_BYTES,
    BadMessage,
    BadSignature,
    Codec,
    Query,
    read_xml,
    signed_query,
)
from core.hashing import wechat_signature, wechat_signature_ok
from tests.bot.wechat.conftest import AES_KEY, APP_ID, TOKEN, event_xml, text_xml

# WeChat's sample for its message encryption library (WXBizMsgCrypt, the same AES scheme as
# an Official Account's safe mode): Token QDG6eK, the AES key and AppID above.
SAMPLE_TOKEN = "QDG6eK"
SAMPLE_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczc"
    "dCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLj"
    "vd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMn"
    "vw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k"
    "22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoy"
    "yH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
SAMPLE_MSG_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
SAMPLE_TIMESTAMP, SAMPLE_NONCE = "1409659813", "1372623149"
SAMPLE_ECHO = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)
SAMPLE_ECHO_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"


def test_signature_matches_wechats_sample_vectors():
    assert wechat_signature(SAMPLE_TOKEN, "1409659589", "263014780", SAMPLE_ECHO) == (
        SAMPLE_ECHO_SIGNATURE
    )
    assert wechat_signature_ok(
        SAMPLE_TOKEN, SAMPLE_MSG_SIGNATURE, SAMPLE_TIMESTAMP, SAMPLE_NONCE, SAMPLE_ENCRYPT
    )
    assert not wechat_signature_ok(SAMPLE_TOKEN, SAMPLE_MSG_SIGNATURE, SAMPLE_TIMESTAMP, "1")
    assert not wechat_signature_ok(SAMPLE_TOKEN, None, SAMPLE_TIMESTAMP, SAMPLE_NONCE)
    assert not wechat_signature_ok(SAMPLE_TOKEN, SAMPLE_ECHO_SIGNATURE, None, SAMPLE_NONCE)


def test_sample_encrypted_message_decrypts_to_wechats_plaintext():
    codec = Codec(SAMPLE_TOKEN, APP_ID, AES_KEY)
    query = Query(
        signature=wechat_signature(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE),
        timestamp=SAMPLE_TIMESTAMP,
        nonce=SAMPLE_NONCE,
        encrypt_type="aes",
        msg_signature=SAMPLE_MSG_SIGNATURE,
    )
    body = f"<xml><ToUserName><![CDATA[{APP_ID}]]></ToUserName><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
    inbound = codec.decode(query, body.encode())
    assert (inbound.msg_type, inbound.openid, inbound.field("Content")) == (
        "text",
        "mycreate",
        "hello",
    )
    assert inbound.msg_id == "4561255354251345929"


def test_sample_encrypted_message_with_a_wrong_msg_signature_is_refused():
    codec = Codec(SAMPLE_TOKEN, APP_ID, AES_KEY)
    query = Query(
        signature=wechat_signature(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE),
        timestamp=SAMPLE_TIMESTAMP,
        nonce=SAMPLE_NONCE,
        encrypt_type="aes",
        msg_signature="0" * 40,
    )
    body = f"<xml><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
    with pytest.raises(BadSignature):
        codec.decode(query, body.encode())


def test_safe_mode_round_trip_reply_decrypts_with_the_same_key():
    codec = Codec(TOKEN, APP_ID, AES_KEY)
    inbound = Codec(TOKEN).decode(Query(**signed_query(TOKEN)), text_xml("你好").encode())
    query = Query(**signed_query(TOKEN, nonce="n1"), encrypt_type="aes")
    body, content_type = codec.reply(inbound, '答复：中文 ]]> <a href="https://x">链接</a>', query)
    assert content_type == "application/xml" and "Encrypt" in body and "答复" not in body
    outer = read_xml(body)
    reply_query = Query(
        signature=wechat_signature(TOKEN, outer["TimeStamp"], outer["Nonce"]),
        timestamp=outer["TimeStamp"],
        nonce=outer["Nonce"],
        encrypt_type="aes",
        msg_signature=outer["MsgSignature"],
    )
    decrypted = codec.decode(reply_query, body.encode())
    assert decrypted.field("Content") == '答复：中文 ]]> <a href="https://x">链接</a>'
    assert decrypted.openid == "gh_office"  # the reply goes from the account to the user


def test_plaintext_reply_is_xml_addressed_to_the_user():
    codec = Codec(TOKEN)
    inbound = codec.decode(Query(**signed_query(TOKEN)), text_xml("你好", openid="oABC").encode())
    body, content_type = codec.reply(inbound, "您好", Query(**signed_query(TOKEN)))
    fields = read_xml(body)
    assert content_type == "application/xml"
    assert (fields["ToUserName"], fields["MsgType"], fields["Content"]) == ("oABC", "text", "您好")
    assert codec.reply(inbound, None, Query()) == ("success", "text/plain")


def test_echo_handshake_checks_the_signature():
    codec = Codec(TOKEN)
    assert codec.echo(Query(**signed_query(TOKEN), echostr="12345")) == "12345"
    with pytest.raises(BadSignature):
        codec.echo(Query(**signed_query("other-token"), echostr="12345"))
    with pytest.raises(BadSignature):
        codec.echo(Query(echostr="12345"))


def test_encrypted_message_without_a_configured_key_is_a_bad_message():
    body = f"<xml><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
    with pytest.raises(BadMessage):
        Codec(TOKEN).decode(Query(**signed_query(TOKEN), encrypt_type="aes"), body.encode())


@pytest.mark.parametrize(
    "ciphertext",
    ["not base64!!", "", "AAAA", SAMPLE_ENCRYPT[:-8] + "AAAAAAA=", "A" * 64],
)
def test_corrupt_ciphertext_is_a_bad_message_not_a_crash(ciphertext):
    codec = Codec(TOKEN, APP_ID, AES_KEY)
    query = signed_query(TOKEN)
    msg_signature = wechat_signature(TOKEN, query["timestamp"], query["nonce"], ciphertext)
    body = f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
    with pytest.raises((BadMessage, BadSignature)):
        codec.decode(Query(**query, encrypt_type="aes", msg_signature=msg_signature), body.encode())


def test_message_for_another_app_id_is_refused():
    sender = Codec(TOKEN, "wx-another-app", AES_KEY)
    inbound = Codec(TOKEN).decode(Query(**signed_query(TOKEN)), text_xml("hi").encode())
    query = Query(**signed_query(TOKEN, nonce="n2"), encrypt_type="aes")
    body, _ = sender.reply(inbound, "forged", query)
    outer = read_xml(body)
    forged = Query(
        signature=wechat_signature(TOKEN, outer["TimeStamp"], outer["Nonce"]),
        timestamp=outer["TimeStamp"],
        nonce=outer["Nonce"],
        encrypt_type="aes",
        msg_signature=outer["MsgSignature"],
    )
    with pytest.raises(BadMessage):
        Codec(TOKEN, APP_ID, AES_KEY).decode(forged, body.encode())


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    "<xml><ToUserName>x</ToUserName><FromUserName>o1</FromUserName><MsgType>text</MsgType>"
    "<Content>&d;</Content></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content></xml>"
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
    "<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><FromUserName>o1</FromUserName>",  # truncated
        b"<html><body>hi</body></html>",  # wrong root
        b"<xml></xml>",  # no fields
        b"<xml><MsgType>text</MsgType></xml>",  # no sender
        BILLION_LAUGHS.encode(),
        EXTERNAL_ENTITY.encode(),
        PARAMETER_ENTITY.encode(),
        b'<?xml version="1.0"?><!DOCTYPE xml><xml><FromUserName>o</FromUserName></xml>',
        ("<xml>" + "<F>x</F>" * 200 + "</xml>").encode(),  # too many fields
        ("<xml><FromUserName>o</FromUserName><Content>" + "长" * 20000 + "</Content></xml>").encode(),
        b"<xml>" + b"<a>" * (MAX_BODY_BYTES // 3) + b"</xml>",  # oversized
    ],
    ids=[
        "empty", "not-xml", "truncated", "wrong-root", "no-fields", "no-sender", "billion-laughs",
        "external-entity", "parameter-entity", "doctype", "too-many-fields", "long-field",
        "oversized",
    ],
)  # fmt: skip
def test_hostile_or_malformed_xml_is_a_bad_message(body):
    with pytest.raises(BadMessage):
        Codec(TOKEN).decode(Query(**signed_query(TOKEN)), body)


def test_event_dedupe_key_uses_sender_time_and_event_and_hides_the_openid():
    codec = Codec(TOKEN)
    xml = event_xml("CLICK", openid="oSecret", key="CMD:help")
    first = codec.decode(Query(**signed_query(TOKEN)), xml.encode())
    again = codec.decode(Query(**signed_query(TOKEN, nonce="other")), xml.encode())
    assert first.event == "click" and first.msg_id is None
    assert first.dedupe_key("salt") == again.dedupe_key("salt")
    assert "oSecret" not in first.dedupe_key("salt")
    later = codec.decode(
        Query(**signed_query(TOKEN)), event_xml("CLICK", "oSecret", "CMD:help").encode()
    )
    assert later.dedupe_key("salt") != first.dedupe_key("salt")


def test_wrong_or_missing_signature_is_refused_before_parsing():
    with pytest.raises(BadSignature):
        Codec(TOKEN).decode(Query(**signed_query("not-the-token")), b"<<<garbage")
    with pytest.raises(BadSignature):
        Codec(TOKEN).decode(Query(), text_xml("hi").encode())
