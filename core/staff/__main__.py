"""`python -m core.staff create-admin NAME | create-user NAME [--role R] | create-token NAME
[--role R]`: console users (password from a prompt, or from stdin when it is not a terminal)
and integration API tokens (printed once)."""

from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
    if args.command == "create-token":
        return _create_token(args.name, args.role)
    return _create_user(args.username, "admin" if args.command == "create-admin" else args.role)


if __name__ == "__main__":
    sys.exit(main())
