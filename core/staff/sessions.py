"""Signed console session tokens (HMAC-SHA256) with idle and absolute expiry, and CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsoleSession:
    """What the session cookie carries: who, since when, until when, and the CSRF token."""

    user_id: int
    issued_at: int
    expires_at: int
    csrf: str


def new_csrf() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(24)


def _sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def encode(secret: str, session: ConsoleSession) -> str:
    """Cookie value: base64(JSON).signature."""
    raw = json.dumps(
        {"u": session.user_id, "i": session.issued_at, "e": session.expires_at, "c": session.csrf},
        separators=(",", ":"),
    )
    body = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{body}.{_sign(secret, body)}"


def decode(secret: str, value: str | None, now: int, max_age_s: int) -> ConsoleSession | None:
    """The session if the signature is valid and it has not expired; None otherwise."""
    if not value or value.count(".") != 1:
        return None
    body, signature = value.split(".")
    if not hmac.compare_digest(signature, _sign(secret, body)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        session = ConsoleSession(int(data["u"]), int(data["i"]), int(data["e"]), str(data["c"]))
    except (ValueError, KeyError, TypeError):
        return None
    if now >= session.expires_at or now >= session.issued_at + max_age_s:
        return None
    return session


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens; False when either is missing."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
