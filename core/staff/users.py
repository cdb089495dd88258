"""Console users: argon2 password hashes, login with lockout, roles, user management.

Login failures are counted per user name whether or not the name exists (table
login_failures, an atomic INSERT … ON CONFLICT … RETURNING), and every attempt verifies one
argon2 hash — the user's or a dummy — so an unknown name, a wrong password, a deactivated account
and a locked one cost the same time, and the first three read the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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


COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower-cased)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and line[0] != "#")


def check_password_strength(password: str, username: str = "") -> None:
    """StaffError when the password is too weak to accept: too short, common, mostly one
    character, or containing the user name."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise StaffError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    folded = password.lower()
    if folded in common_passwords() or folded.rstrip("!.?") in common_passwords():
        raise StaffError("this password is on the list of common passwords; choose another")
    if len(set(folded)) < 4:
        raise StaffError("the password repeats too few different characters")
    if username and len(username) >= 3 and username.lower() in folded:
        raise StaffError("the password must not contain the user name")


def create_user(session: Session, username: str, password: str, role: str) -> StaffUser:
    """Add a console user; StaffError on a bad username, weak password, unknown role, duplicate."""
    if not USERNAME_RE.match(username):
        raise StaffError("username: 3-64 letters, digits, '_', '.', '-'")
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    check_password_strength(password, username)
    if store.find_user(session, username) is not None:
        raise StaffError(f"user {username!r} already exists")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def login_subject(username: str) -> str:
    """The key failed logins are counted under (the name itself is not stored)."""
    return hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()


def authenticate(session: Session, username: str, password: str, now: dt.datetime) -> Staff:
    """The user for correct credentials; LoginFailed or AccountLocked otherwise.

    The fifth failure in a row for a name locks it for 15 minutes, known or not (see the module
    docstring); while locked even the right password is refused.
    """
    subject = login_subject(username)
    user = store.find_user(session, username)
    usable = user is not None and user.active
    matches = _verify(user.password_hash if usable and user else _DUMMY_HASH, password) and usable
    locked_until = store.login_locked_until(session, subject)
    if locked_until is not None and aware(locked_until) > now:
        raise AccountLocked(aware(locked_until))
    if not matches or user is None:
        if store.count_login_failure(session, subject, now) >= MAX_FAILED_LOGINS:
            until = now + dt.timedelta(minutes=LOCK_MINUTES)
            store.lock_login(session, subject, until)
            if user is not None:
                user.locked_until = until  # shown on the users page
            session.flush()
            raise AccountLocked(until)
        raise LoginFailed
    store.clear_login_failures(session, subject)
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
    user = _user(session, user_id)
    store.clear_login_failures(session, login_subject(user.username))
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    return user


def set_active(
    session: Session, user_id: int, active: bool, now: dt.datetime, *, by: int
) -> StaffUser:
    """Deactivate (ending every session) or reactivate a user; never oneself, never the last
    active admin."""
    user = _user(session, user_id)
    if not active:
        if user.id == by:
            raise StaffError("you cannot deactivate your own account")
        if user.role == "admin" and user.active and store.active_admins(session) <= 1:
            raise StaffError("the last active admin cannot be deactivated")
        store.revoke_sessions(session, now, user_id=user.id)
    user.active = active
    session.flush()
    return user


def set_role(session: Session, user_id: int, role: str, *, by: int) -> StaffUser:
    """Give a user another role (effective on their next request); the last admin stays one."""
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    user = _user(session, user_id)
    if user.role == "admin" and role != "admin":
        if user.id == by:
            raise StaffError("you cannot take the admin role from yourself")
        if user.active and store.active_admins(session) <= 1:
            raise StaffError("the last active admin must stay an admin")
    user.role = role
    session.flush()
    return user


def reset_password(session: Session, user_id: int, password: str, now: dt.datetime) -> StaffUser:
    """An admin sets a new password: every session of the user ends, the lockout is lifted."""
    user = _user(session, user_id)
    check_password_strength(password, user.username)
    user.password_hash = hash_password(password)
    store.revoke_sessions(session, now, user_id=user.id)
    unlock_user(session, user.id)
    return user


def change_password(
    session: Session, user_id: int, old: str, new: str, now: dt.datetime, *, keep: str
) -> StaffUser:
    """A user changes their own password (the old one is checked); their other sessions end."""
    user = _user(session, user_id)
    if not _verify(user.password_hash, old):
        raise StaffError("the current password is wrong")
    if new == old:
        raise StaffError("the new password must differ from the current one")
    check_password_strength(new, user.username)
    user.password_hash = hash_password(new)
    store.revoke_sessions(session, now, user_id=user.id, keep=keep)
    session.flush()
    return user


def sign_out_everywhere(session: Session, user_id: int, now: dt.datetime) -> int:
    """End every session of a user; how many were open."""
    return store.revoke_sessions(session, now, user_id=_user(session, user_id).id)


def _user(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffError("no such user")
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
