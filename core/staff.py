"""Console users: argon2 password hashes, login with lockout, roles, audit log, CLI.

`python -m core.staff create-admin USERNAME` creates the first admin (password from a prompt,
or from stdin when it is not a terminal).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import re
import sys
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import AuditLog, StaffUser

ROLES = ("agent", "editor", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_CHARS = 10
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")

_hasher = PasswordHasher()
# Verifying against this keeps the time for unknown users close to the time for known ones.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class StaffError(Exception):
    """A user-management request that cannot be done; the message is for the operator."""


class LoginFailed(Exception):
    """Wrong username or password (deliberately the same for both)."""


class AccountLocked(Exception):
    """Too many failed logins; `until` is when the lock ends."""

    def __init__(self, until: dt.datetime):
        super().__init__("locked")
        self.until = until


@dataclass(frozen=True)
class Staff:
    """The logged-in user as the console sees it."""

    id: int
    username: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user's role is at least `role` (agent < editor < admin)."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    """StaffError when the password is too weak to accept."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise StaffError(f"password must have at least {MIN_PASSWORD_CHARS} characters")


def create_user(session: Session, username: str, password: str, role: str) -> StaffUser:
    """Add a console user; StaffError on a bad username, weak password, unknown role, duplicate."""
    if not USERNAME_RE.match(username):
        raise StaffError("username: 3-64 letters, digits, '_', '.', '-'")
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    check_password_strength(password)
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise StaffError(f"user {username!r} already exists")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str, now: dt.datetime) -> Staff:
    """The user for correct credentials; LoginFailed or AccountLocked otherwise.

    Each failure counts; the fifth in a row locks the account for 15 minutes.
    """
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise LoginFailed
    if user.locked_until is not None and _aware(user.locked_until) > now:
        raise AccountLocked(_aware(user.locked_until))
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            session.flush()
            raise AccountLocked(user.locked_until)
        session.flush()
        raise LoginFailed
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return Staff(user.id, user.username, user.role)


def load_staff(session: Session, user_id: int) -> Staff | None:
    """The active user with this id (None when deleted or deactivated)."""
    user = session.get(StaffUser, user_id)
    if user is None or not user.active:
        return None
    return Staff(user.id, user.username, user.role)


def list_users(session: Session) -> list[StaffUser]:
    """All console users, by name."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def unlock_user(session: Session, user_id: int) -> StaffUser:
    """Clear a lockout."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffError("no such user")
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    return user


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one staff action (never message text or personal data in `detail`)."""
    session.add(AuditLog(actor=actor, action=action, target=target, detail=detail))
    session.flush()


def recent_audit(session: Session, limit: int = 200) -> list[AuditLog]:
    """Newest audit entries first."""
    return list(session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise StaffError("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def main(argv: list[str] | None = None) -> int:
    """CLI: create-admin / create-user."""
    from core.db.engine import build_engine, session_factory, session_scope
    from core.db.migrate import upgrade
    from core.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m core.staff", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    admin = sub.add_parser("create-admin", help="create an admin (password from prompt/stdin)")
    admin.add_argument("username")
    user = sub.add_parser("create-user", help="create a user with a role")
    user.add_argument("username")
    user.add_argument("--role", choices=ROLES, default="agent")
    args = parser.parse_args(argv)
    role = "admin" if args.command == "create-admin" else args.role
    url = get_settings().database_url
    try:
        password = _read_password()
        upgrade(url)
        with session_scope(session_factory(build_engine(url))) as session:
            create_user(session, args.username, password, role)
            audit(session, "cli", "create_user", args.username, {"role": role})
    except StaffError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"created {role} {args.username}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
