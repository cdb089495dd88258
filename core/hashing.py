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
