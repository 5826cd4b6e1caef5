"""``madoguchi admin``: manage operator and admin accounts and read the audit trail.

Works on the relay's storage directly (the SQLite files in its data directory, or
the PostgreSQL database that ``database`` in relay.toml names), so it can run while
the relay is up; a disabled operator's tokens stop working at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .audit import AuditLog
    from .effects import Audit

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)


def _add_location_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument("--config", type=Path, default=default, help="relay.toml (for its data_dir)")
    parser.add_argument(
        "--data-dir", type=Path, default=default, help="the relay's data directory (overrides --config)"
    )


def configure(parser: argparse.ArgumentParser) -> None:
    _add_location_options(parser, default=None)
    # The same options are accepted after the action too (`admin add-operator --data-dir X`):
    # people type them in either order. SUPPRESS keeps a value given before the action
    # when the action's copy of the option is absent.
    common = argparse.ArgumentParser(add_help=False)
    _add_location_options(common, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    def action(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    add = action("add-operator", help="create an operator account")
    add.add_argument("username")
    add.add_argument("--display-name", required=True, help="shown to the customer before they allow")
    add.add_argument("--org", required=True, help="organisation, shown to the customer")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    admin = action("add-admin", help="create an admin account (for the admin web at /admin only)")
    admin.add_argument("username")
    admin.add_argument("--display-name", help="the admin's name (default: the username)")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    passwd = action("set-password", help="change an account's password (an operator's or an admin's)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    action("list-operators", help="list operator accounts")

    disable = action("disable-operator", help="disable an account (its logins stop working)")
    disable.add_argument("username")
    enable = action("enable-operator", help="enable a disabled account")
    enable.add_argument("username")

    audit = action("audit", help="print the audit trail as JSON lines")
    audit.add_argument("--since", help="ISO date/time, e.g. 2025-01-31 or 2025-01-31T09:00+09:00")
    audit.add_argument("--event", help="only this event, e.g. claim_failed")


def run(args: argparse.Namespace) -> int:
    from .accounts import AccountError, Accounts
    from .audit import AuditLog
    from .config import ConfigError, load_config
    from .database import DatabaseUnavailable, open_storage
    from .effects import Audit

    try:
        config = load_config(args.config, **({"data_dir": args.data_dir} if args.data_dir else {}))
    except ConfigError as exc:
        print(f"error: configuration: {exc}", file=sys.stderr)
        return 2
    try:  # the relay's own storage: SQLite files in data_dir, or its PostgreSQL (`database`)
        storage = open_storage(config)
    except DatabaseUnavailable as exc:
        print(f"error: the database is unreachable: {exc}", file=sys.stderr)
        return 1
    command: str = args.admin_command
    try:
        accounts = Accounts(storage.accounts)
        log = AuditLog(storage.audit)
        if command == "add-operator":
            password = _read_password(args.password_stdin, confirm=True)
            account = accounts.add(args.username, password, args.display_name, args.org)
            _audit(log, Audit("operator_added", operator=account.username))
            print(f"added operator {account.username} ({account.display_name}, {account.organisation})")
        elif command == "add-admin":
            password = _read_password(args.password_stdin, confirm=True)
            name = args.display_name or args.username
            account = accounts.add(args.username, password, name, "admin", role="admin")
            _audit(log, Audit("admin_added", detail={"admin": account.username}))
            print(f"added admin {account.username}: log in at /admin on the relay")
        elif command == "set-password":
            accounts.set_password(args.username, _read_password(args.password_stdin, confirm=True))
            _audit(log, Audit("operator_password_changed", operator=args.username))
            print(f"password changed for {args.username}")
        elif command == "list-operators":
            for acc in accounts.list():
                state = "disabled" if acc.disabled else "active"
                role = "\tadmin" if acc.role == "admin" else ""
                print(f"{acc.username}\t{acc.display_name}\t{acc.organisation}\t{state}{role}")
        elif command in ("disable-operator", "enable-operator"):
            disabled = command == "disable-operator"
            accounts.set_disabled(args.username, disabled)
            event = "operator_disabled" if disabled else "operator_enabled"
            _audit(log, Audit(event, operator=args.username))
            print(f"{args.username}: {'disabled' if disabled else 'enabled'}")
        elif command == "audit":
            since = _parse_since(args.since) if args.since else None
            for row in log.rows(since=since, event=args.event):
                print(json.dumps(row.as_dict(), ensure_ascii=False))
    except DatabaseUnavailable as exc:
        print(f"error: the database is unreachable: {exc}", file=sys.stderr)
        return 1
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a bad --since, an empty password
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        storage.close()
    return 0


def _read_password(from_stdin: bool, *, confirm: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if confirm and getpass.getpass("again: ") != password:
            raise ValueError("the passwords do not match")
    if not password:
        raise ValueError("empty password")
    return password


def _parse_since(text: str) -> float:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since: not an ISO date/time: {text!r}") from None
    if when.tzinfo is None:
        when = when.astimezone()  # local time, as people type it
    return when.timestamp()


def _audit(log: AuditLog, record: Audit) -> None:
    log.write(record, time.time())
