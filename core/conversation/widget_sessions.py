"""Widget session ids issued by the api, never chosen by the browser.

An id is `w` + issue time (8 hex digits, seconds) + 16 random characters + a 22-character
HMAC-SHA256 tag over both (47 characters, within the widget's `[A-Za-z0-9_-]{8,64}`). The api
accepts only ids it signed and refuses them after `max_age_s`; so per-session limits (message
rate, lookup failures) cannot be reset by inventing a new id, only by asking for one — which the
api rations per client address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets

ID_RE = re.compile(r"^w([0-9a-f]{8})([A-Za-z0-9_-]{16})([A-Za-z0-9_-]{22})$")


def derive_secret(console_secret: str) -> str:
    """The signing key when WIDGET_SESSION_SECRET is not set: separated from CONSOLE_SECRET."""
    return hmac.new(console_secret.encode(), b"widget-session-ids", hashlib.sha256).hexdigest()


def _tag(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"widget-session:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:22]


def mint(secret: str, now: int) -> str:
    """A new signed session id issued at `now` (Unix seconds)."""
    body = f"{now & 0xFFFFFFFF:08x}{secrets.token_urlsafe(12)}"
    return f"w{body}{_tag(secret, body)}"


def valid(secret: str, session_id: str, now: int, max_age_s: int) -> bool:
    """True for an id this secret signed that is not older than `max_age_s`."""
    match = ID_RE.fullmatch(session_id or "")
    if match is None:
        return False
    issued, nonce, tag = match.groups()
    if not hmac.compare_digest(tag, _tag(secret, issued + nonce)):
        return False
    age = now - int(issued, 16)
    return -300 <= age <= max_age_s


def client_network(host: str | None) -> str:
    """The client address as budgets count it: IPv4 as is, IPv6 by its /64 (one household or
    phone gets a whole /64, so single IPv6 addresses are free to rotate)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
