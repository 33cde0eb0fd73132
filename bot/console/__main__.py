"""`python -m bot.console add-user USERNAME --name "Lê Thị Lan" --role officer|volunteer`: make or replace an
account; the password is read from the terminal (or one line of standard input), never from the command line."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from common.database import create_engine

from ..settings import Settings
from .auth import ROLES, hash_password
from .store import ConsoleStore

MIN_PASSWORD = 10


async def add_user(username: str, name: str, role: str, password: str) -> None:
    store = ConsoleStore(create_engine(Settings.from_env().database))
    await store.create_schema()
    await store.add_officer(username, name, role, hash_password(password))
    await store.record(username, "account_created", detail=role)
    await store.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="make or replace an officer's or volunteer's account")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the name citizens and other officers see")
    add.add_argument("--role", choices=ROLES, default="officer")
    args = parser.parse_args(argv)
    password = getpass.getpass("Mật khẩu: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD:
        print(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.", file=sys.stderr)
        return 2
    asyncio.run(add_user(args.username, args.name, args.role, password))
    print(f"Đã tạo tài khoản {args.username} ({args.role}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
