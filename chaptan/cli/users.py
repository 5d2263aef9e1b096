"""`chaptan users ...`: manage the app's accounts from a shell, e.g. inside the container.

Each command sets `func(args) -> int` on its parser; user mistakes raise ChaptanError for the main
entry point to print as one line (exit 2).
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
import time
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import ChaptanError

if TYPE_CHECKING:
    from ..accounts.administration import Administration
    from ..accounts.auth import Accounts


def register(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("users", help="manage the web app's user accounts",
                                  description="Manage the accounts that can sign in to the web app. "
                                              "The database is CHAPTAN_DATA_DIR/chaptan.json.")
    commands = users.add_subparsers(dest="users_command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", help="create a user")
    add.add_argument("name")
    _password_options(add)
    add.add_argument("--admin", action="store_true", help="may manage users and see every job")
    add.add_argument("--email", default="", help="where to send 'your chapters are ready' mails")
    add.set_defaults(func=_add)

    commands.add_parser("list", help="show all users").set_defaults(func=_list)

    passwd = commands.add_parser("passwd", help="set a user's password")
    passwd.add_argument("name")
    _password_options(passwd)
    passwd.set_defaults(func=_passwd)

    for name, func, text in (("remove", _remove, "delete a user and all their data: videos, transcripts, "
                                                 "voice memory, served copies, bucket objects"),
                             ("disable", _disable, "refuse a user's sign-ins and end their sessions"),
                             ("enable", _enable, "allow a disabled user to sign in again")):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        command.set_defaults(func=func)

    approve = commands.add_parser("approve", help="let an account that signed up (CHAPTAN_SIGNUP=approval) "
                                                  "sign in; `remove` rejects it")
    approve.add_argument("name")
    approve.set_defaults(func=_approve)

    admin = commands.add_parser("admin", help="make a user an administrator (or, with --revoke, not)")
    admin.add_argument("name")
    admin.add_argument("--revoke", action="store_true", help="take the administrator role away")
    admin.set_defaults(func=_admin)


def _password_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password", help="the password (visible in the shell history; prefer a prompt)")
    group.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of stdin")


def _accounts() -> Accounts:
    # Imported here: every `python -m chaptan` command registers this module, and importing the
    # account code hashes a password (its constant-time dummy) and loads the database library.
    from ..accounts.auth import Accounts
    from ..storage.store import DB_FILE, Store

    return Accounts(Store(Settings.from_env().data_dir / DB_FILE))


def _administration() -> Administration:
    """The service the Admin tab uses, over the same data dir. With a bucket configured, removals are
    recorded as pending deletions in the database, which the running app (or `chaptan s3 sync`)
    carries out in the bucket."""
    from ..accounts.administration import Administration
    from ..accounts.auth import Accounts
    from ..storage.artifacts import ArtifactStore, outbox_root
    from ..storage.store import DB_FILE, Store

    settings = Settings.from_env()
    store = Store(settings.data_dir / DB_FILE)
    mirror = None
    if settings.s3_bucket:
        from ..storage.s3 import build_mirror  # boto3 loads only when a bucket is configured

        mirror = build_mirror(settings, store)
    return Administration(store, Accounts(store), ArtifactStore(settings.data_dir, mirror), outbox_root())


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated): from the options, a prompt on a terminal, or made up when piped."""
    if args.password is not None:
        return args.password, False
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ChaptanError("--password-stdin: stdin gave no password")
        return password, False
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ChaptanError("the two passwords differ")
        return password, False
    return secrets.token_urlsafe(12), True


def _show_generated(name: str, password: str) -> None:
    print(f"password for {name}: {password}")
    print("(shown only this once)")


def _add(args: argparse.Namespace) -> int:
    administration = _administration()
    administration.check_new_name(args.name)  # fail on the name before anyone types a password for it
    password, generated = _read_password(args)
    administration.create_user(args.name, password, is_admin=args.admin, email=args.email)
    print(f"created {'admin ' if args.admin else 'user '}{args.name}")
    if generated:
        _show_generated(args.name, password)
    return 0


def _list(args: argparse.Namespace) -> int:
    """One line per user: name, role, state, created, videos, disk use, e-mail."""
    usage = _administration().usage()
    if not usage:
        print("no users yet: the app creates the admin on its first start, or run `chaptan users add`")
        return 0
    width = max(len(held.user.name) for held in usage)
    for held in usage:
        user = held.user
        role = "admin" if user.is_admin else "user"
        state = "disabled" if user.disabled else "pending" if user.pending else "enabled"
        created = time.strftime("%Y-%m-%d", time.localtime(user.created))
        print(f"{user.name:<{width}}  {role:<5}  {state:<8}  {created}  {held.videos:>4} videos  "
              f"{held.bytes / 1e6:>9.1f} MB  {user.email}".rstrip())
    return 0


def _passwd(args: argparse.Namespace) -> int:
    accounts = _accounts()
    accounts.get(args.name)  # a missing user fails before anyone types a password
    password, generated = _read_password(args)
    accounts.set_password(args.name, password)
    print(f"changed the password of {args.name} (their sessions have ended)")
    if generated:
        _show_generated(args.name, password)
    return 0


def _remove(args: argparse.Namespace) -> int:
    administration = _administration()
    held = administration.remove_user(args.name)
    print(f"removed {args.name} and all their data: {held.videos} video(s), {held.bytes / 1e6:.1f} MB of "
          "files, their voice memory and sessions")
    if administration.artifacts.mirror is not None:
        print("their objects in the bucket are deleted by the running app, or by `chaptan s3 sync`")
    return 0


def _approve(args: argparse.Namespace) -> int:
    _administration().approve_user(args.name)
    print(f"approved {args.name}: they can sign in now")
    return 0


def _admin(args: argparse.Namespace) -> int:
    _administration().set_admin(args.name, not args.revoke)
    print(f"{args.name} is {'no longer' if args.revoke else 'now'} an administrator")
    return 0


def _disable(args: argparse.Namespace) -> int:
    _accounts().set_disabled(args.name, True)
    print(f"disabled {args.name} (their sessions have ended)")
    return 0


def _enable(args: argparse.Namespace) -> int:
    _accounts().set_disabled(args.name, False)
    print(f"enabled {args.name}")
    return 0
