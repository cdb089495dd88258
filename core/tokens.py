"""Bearer tokens for the integration API: created by CLI, stored only as SHA-256 hashes.

`python -m core.tokens create NAME [--role integration|staff]` prints the token once.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import sys

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import ApiToken

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
    record = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    )
    return record if record and hmac.compare_digest(record.token_hash, digest) else None


def main(argv: list[str]) -> int:
    """CLI entry point."""
    from core.db.engine import session_scope
    from core.services import get_sessionmaker

    parser = argparse.ArgumentParser(prog="python -m core.tokens")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a token and print it once")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, default="integration")
    args = parser.parse_args(argv)
    with session_scope(get_sessionmaker()) as session:
        token = create_token(session, args.name, args.role)
    print(token)
    print(
        f"token for {args.name!r} ({args.role}); store it now, it is not shown again",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
