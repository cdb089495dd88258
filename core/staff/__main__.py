"""`python -m core.staff create-admin NAME | create-user NAME [--role R] | tokens create NAME
[--role R] | tokens list | tokens revoke ID`: console users (password from a prompt, or from
stdin when it is not a terminal) and integration API tokens (printed once; `create-token` is
the old spelling of `tokens create`)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

from core import settings
from core.db.engine import build_engine, configured_sessions, session_factory, session_scope
from core.db.migrate import upgrade
from core.staff import tokens, users
from core.staff.audit import audit


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise users.StaffError("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def _create_user(username: str, role: str) -> int:
    url = settings.get_settings().database_url  # looked up at call time (tests override it)
    try:
        password = _read_password()
        upgrade(url)
        with session_scope(session_factory(build_engine(url))) as session:
            users.create_user(session, username, password, role)
            audit(session, "cli", "create_user", username, {"role": role})
    except users.StaffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {role} {username}")
    return 0


def _create_token(name: str, role: str) -> int:
    with session_scope(configured_sessions()) as session:
        token = tokens.create_token(session, name, role)
    print(token)
    print(f"token for {name!r} ({role}); store it now, it is not shown again", file=sys.stderr)
    return 0


def _list_tokens() -> int:
    with session_scope(configured_sessions()) as session:
        rows = tokens.list_tokens(session)
        for t in rows:
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            print(f"{t.id}\t{t.name}\t{t.role}\t{state}\tlast used {used}")
    if not rows:
        print("no tokens", file=sys.stderr)
    return 0


def _revoke_token(token_id: int) -> int:
    try:
        with session_scope(configured_sessions()) as session:
            record = tokens.revoke_token(session, token_id, dt.datetime.now(dt.UTC))
            audit(session, "cli", "revoke_token", f"token:{record.id}", {"name": record.name})
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"revoked token {token_id} ({record.name})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the command."""
    parser = argparse.ArgumentParser(prog="python -m core.staff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin (password from prompt/stdin)")
    admin.add_argument("username")
    user = commands.add_parser("create-user", help="create a console user with a role")
    user.add_argument("username")
    user.add_argument("--role", choices=users.ROLES, default="agent")
    token = commands.add_parser("create-token", help="create an API token and print it once")
    token.add_argument("name")
    token.add_argument("--role", choices=tokens.ROLES, default="integration")
    manage = commands.add_parser("tokens", help="integration API tokens: create, list, revoke")
    actions = manage.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a token and print it once")
    create.add_argument("name")
    create.add_argument(
        "--role",
        choices=tokens.ROLES,
        default="integration",
        help="integration writes, staff reads",
    )
    actions.add_parser("list", help="id, name, role, state and last use of every token")
    revoke = actions.add_parser("revoke", help="revoke a token by its id (see list)")
    revoke.add_argument("id", type=int)
    args = parser.parse_args(argv)
    if args.command == "create-token" or (args.command == "tokens" and args.action == "create"):
        return _create_token(args.name, args.role)
    if args.command == "tokens":
        return _list_tokens() if args.action == "list" else _revoke_token(args.id)
    return _create_user(args.username, "admin" if args.command == "create-admin" else args.role)


if __name__ == "__main__":
    sys.exit(main())
