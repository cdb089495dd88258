"""Bearer tokens for the integration API: stored only as SHA-256 hashes.

Roles: `integration` tokens write (the office's case systems push cases and events), `staff`
tokens only read (a case, the lockouts). `python -m core.staff tokens create NAME [--role …]`
prints a token once; `tokens list` and `tokens revoke ID` (also on the console's tokens page)
manage them; every use is written to the audit log and stamps `last_used_at`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from core.db.models import ApiToken
from core.db.utc import aware
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


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, revoked ones too, newest first (never the token itself)."""
    return store.list_tokens(session)


def revoke_token(session: Session, token_id: int, now: dt.datetime) -> ApiToken:
    """Revoke a token (ValueError when there is no such token)."""
    record = session.get(ApiToken, token_id)
    if record is None:
        raise ValueError(f"no token with id {token_id}")
    if record.revoked_at is None:
        record.revoked_at = now
        session.flush()
    return record


def mark_used(record: ApiToken, now: dt.datetime) -> None:
    """Stamp the token's last use (at most once a minute: no write per request)."""
    if record.last_used_at is None or aware(record.last_used_at) < now - dt.timedelta(minutes=1):
        record.last_used_at = now
