"""Salted hashes for identifiers that must be comparable but never readable."""

from __future__ import annotations

import hashlib
import hmac


def salted_hash(salt: str, *parts: str) -> str:
    """HMAC-SHA256 of the parts (joined with a separator) under the salt, hex encoded."""
    message = "\x1f".join(parts).encode("utf-8")
    return hmac.new(salt.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sender_tag(salt: str, sender_id: str) -> str:
    """Short, stable pseudonym of a sender id for logs."""
    return salted_hash(salt, "sender", sender_id)[:16]


def wechat_signature(token: str, *parts: str) -> str:
    """WeChat's request signature: SHA1 of the token and the parts, sorted and concatenated
    (`signature` over timestamp and nonce; `msg_signature` adds the encrypted message)."""
    return hashlib.sha1("".join(sorted([token, *parts])).encode("utf-8")).hexdigest()


def wechat_signature_ok(token: str, signature: str | None, *parts: str | None) -> bool:
    """True when `signature` is WeChat's signature of the parts (constant-time comparison)."""
    if not signature or any(not p for p in parts):
        return False
    expected = wechat_signature(token, *(p for p in parts if p))
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())
