"""Console users: argon2 password hashes, login with lockout, roles."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from core.db.models import StaffUser
from core.db.utc import aware
from core.staff import store

ROLES = ("agent", "editor", "admin")
LANGS = ("zh", "en")  # console languages
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
    lang: str = "zh"  # the console's language for this user (zh | en)

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
    if store.find_user(session, username) is not None:
        raise StaffError(f"user {username!r} already exists")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str, now: dt.datetime) -> Staff:
    """The user for correct credentials; LoginFailed or AccountLocked otherwise.

    Each failure counts; the fifth in a row locks the account for 15 minutes.
    """
    user = store.find_user(session, username)
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise LoginFailed
    if user.locked_until is not None and aware(user.locked_until) > now:
        raise AccountLocked(aware(user.locked_until))
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
    return Staff(user.id, user.username, user.role, user.lang if user.lang in LANGS else "zh")


def set_console_lang(session: Session, user_id: int, lang: str) -> None:
    """Store the console language a staff member chose ("zh" or "en")."""
    if lang not in LANGS:
        raise StaffError(f"language must be one of {', '.join(LANGS)}")
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffError("no such user")
    user.lang = lang
    session.flush()


def list_users(session: Session) -> list[StaffUser]:
    """All console users, by name."""
    return store.list_users(session)


def unlock_user(session: Session, user_id: int) -> StaffUser:
    """Clear a lockout."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffError("no such user")
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
