"""Bearer tokens for the integration API: stored only as SHA-256 hashes.

`python -m core.staff create-token NAME [--role integration|staff]` prints a token once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from core.db.models import ApiToken
from core.staff import store

ROLES = ("integration", "staff")


def token_hash(token: str) -> str:
    """Tokens are 256-bit random, so an unsalted SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: str) -> str:
    """Store a new token's hash; return the plaintext (shown once)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = "qw_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=token_hash(token), role=role))
    session.flush()
    return token


def find_token(session: Session, token: str) -> ApiToken | None:
    """The active token record matching the plaintext, or None."""
    digest = token_hash(token)
    record = store.find_active_token(session, digest)
    return record if record and hmac.compare_digest(record.token_hash, digest) else None
