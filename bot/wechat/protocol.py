"""The WeChat server protocol: signatures, safe mode (AES), inbound XML, passive replies.

wechatpy does the protocol itself (AES-256-CBC with WeChat's 32-byte PKCS#7 padding, message
classes, reply XML); this module puts guards around it:
- every XML document is parsed first by defusedxml, which refuses DTDs, entity declarations
  and external entities, and it must be a flat `<xml>` of at most `MAX_FIELDS` short fields;
  only then does wechatpy's parser (xmltodict) see it;
- signatures are compared in constant time (core.hashing), before anything is decrypted;
- every failure of decryption or parsing becomes one `BadMessage` (HTTP 400), never another
  exception; a wrong signature is `BadSignature` (HTTP 403);
- reply text cannot close its CDATA section.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto

from core.hashing import wechat_signature, wechat_signature_ok

MAX_BODY_BYTES = 64 * 1024  # WeChat's messages are a few hundred bytes
MAX_FIELDS = 64
MAX_FIELD_CHARS = 16 * 1024
NO_REPLY = "success"  # WeChat's "received, nothing to say"


class BadMessage(Exception):
    """The request is not a well-formed WeChat message (HTTP 400)."""


class BadSignature(Exception):
    """The request is not signed with the account's Token (HTTP 403)."""


@dataclass(frozen=True)
class Query:
    """The query parameters WeChat adds to every callback."""

    signature: str | None = None
    timestamp: str | None = None
    nonce: str | None = None
    echostr: str | None = None
    encrypt_type: str | None = None
    msg_signature: str | None = None

    @classmethod
    def from_mapping(cls, params: Any) -> Query:
        """From a request's query mapping (Starlette, aiohttp or a dict)."""
        return cls(**{name: params.get(name) for name in cls.__dataclass_fields__})

    @property
    def encrypted(self) -> bool:
        return (self.encrypt_type or "").lower() == "aes"


@dataclass(frozen=True)
class Inbound:
    """One message or event from a WeChat user."""

    msg_type: str  # text | image | voice | video | shortvideo | location | link | file | event …
    openid: str
    account: str  # the official account's id (ToUserName)
    create_time: str
    msg_id: str | None
    event: str | None  # lower case: subscribe | unsubscribe | click | scan | view | …
    fields: dict[str, str]
    message: Any  # wechatpy's message object (for the reply)

    @property
    def sender_id(self) -> str:
        return f"wx:{self.openid}"

    def dedupe_key(self, salt: str) -> str:
        """What identifies this message across WeChat's retries (MsgId; for events, WeChat
        says to use sender + CreateTime), hashed so the table holds no openid."""
        raw = (
            self.msg_id or f"{self.openid}|{self.create_time}|{self.event}|{self.field('EventKey')}"
        )
        return hashlib.sha256(f"{salt}|{raw}".encode()).hexdigest()

    def field(self, name: str) -> str:
        return self.fields.get(name, "")


def read_xml(data: bytes | str) -> dict[str, str]:
    """A flat `<xml>` document as {tag: text}; BadMessage for anything else (DTDs, entities,
    nesting beyond one level of WeChat's own lists, oversize)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BODY_BYTES:
        raise BadMessage("too large")
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise BadMessage(type(exc).__name__) from exc
    if root.tag != "xml":
        raise BadMessage("root is not <xml>")
    children = list(root)
    if not children or len(children) > MAX_FIELDS:
        raise BadMessage("field count")
    fields: dict[str, str] = {}
    for child in children:
        text = _text(child)
        if len(text) > MAX_FIELD_CHARS:
            raise BadMessage("field too long")
        fields[child.tag] = text
    return fields


def _text(element: Element) -> str:
    # WeChat nests one level in a few events (ScanCodeInfo, SendPicsInfo); keep the text only.
    return "".join(element.itertext()).strip() if len(element) else (element.text or "").strip()


class Codec:
    """Checks and decodes WeChat callbacks, encodes passive replies (plaintext or safe mode)."""

    def __init__(self, token: str, app_id: str | None = None, aes_key: str | None = None):
        self.token = token
        self.app_id = app_id or ""
        self._crypto: WeChatCrypto | None = None
        if aes_key:
            try:
                self._crypto = WeChatCrypto(token, aes_key, self.app_id)
            except (AssertionError, ValueError) as exc:  # wrong length or not base64
                raise ValueError("WECHAT_AES_KEY must be the 43-character EncodingAESKey") from exc

    def check(self, query: Query) -> None:
        """The `signature` WeChat puts on every request (token, timestamp, nonce)."""
        if not wechat_signature_ok(self.token, query.signature, query.timestamp, query.nonce):
            raise BadSignature()

    def echo(self, query: Query) -> str:
        """The URL handshake (GET): the echostr back when the signature is right."""
        self.check(query)
        if not query.echostr:
            raise BadMessage("no echostr")
        return query.echostr

    def decode(self, query: Query, body: bytes) -> Inbound:
        """Check the signature(s), decrypt in safe mode, parse. BadSignature / BadMessage."""
        self.check(query)
        fields = read_xml(body)
        if query.encrypted:
            fields = read_xml(self._decrypt(query, fields))
        return self._inbound(fields)

    def _decrypt(self, query: Query, fields: dict[str, str]) -> str:
        if self._crypto is None:
            raise BadMessage("safe mode message but WECHAT_AES_KEY is not set")
        encrypt = fields.get("Encrypt")
        if not encrypt or not wechat_signature_ok(
            self.token, query.msg_signature, query.timestamp, query.nonce, encrypt
        ):
            raise BadSignature()
        try:
            plain = self._crypto.decrypt_message(
                {"Encrypt": encrypt}, query.msg_signature, query.timestamp, query.nonce
            )
        except Exception as exc:  # wechatpy raises assorted errors on corrupt ciphertext
            raise BadMessage(f"decrypt: {type(exc).__name__}") from exc
        return str(plain)

    def _inbound(self, fields: dict[str, str]) -> Inbound:
        msg_type = fields.get("MsgType", "").lower()
        openid = fields.get("FromUserName", "")
        if not msg_type or not openid or len(openid) > 64:
            raise BadMessage("MsgType / FromUserName")
        try:
            # Already checked by defusedxml above: wechatpy's xmltodict sees a harmless document.
            message = parse_message(_to_xml(fields))
        except Exception as exc:
            raise BadMessage(f"parse: {type(exc).__name__}") from exc
        event = fields.get("Event", "").lower() or None if msg_type == "event" else None
        return Inbound(
            msg_type=msg_type,
            openid=openid,
            account=fields.get("ToUserName", ""),
            create_time=fields.get("CreateTime", ""),
            msg_id=fields.get("MsgId") or fields.get("MsgID") or None,
            event=event,
            fields=fields,
            message=message,
        )

    def reply(self, inbound: Inbound, text: str | None, query: Query) -> tuple[str, str]:
        """(body, content type) answering `inbound` passively with `text`; "success" for none."""
        if not text:
            return NO_REPLY, "text/plain"
        xml = create_reply(cdata_safe(text), inbound.message, render=True)
        if query.encrypted and self._crypto is not None:
            nonce = query.nonce or secrets.token_hex(8)
            xml = self._crypto.encrypt_message(xml, nonce, str(int(time.time())))
        return xml, "application/xml"


def cdata_safe(text: str) -> str:
    """Text that cannot end the CDATA section wechatpy wraps it in."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def _to_xml(fields: dict[str, str]) -> str:
    parts = "".join(f"<{k}><![CDATA[{cdata_safe(v)}]]></{k}>" for k, v in fields.items())
    return f"<xml>{parts}</xml>"


def signed_query(
    token: str, *, nonce: str = "nonce", timestamp: str | None = None
) -> dict[str, str]:
    """Query parameters WeChat would send (for tests, the bench and local tries)."""
    timestamp = timestamp or str(int(time.time()))
    return {
        "signature": wechat_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }
