"""Operator accounts in SQLite: username, display name, organisation, scrypt hash, login tokens.

Passwords are hashed with ``hashlib.scrypt`` (N=2**14, r=8, p=1, a random 16-byte
salt per user); the parameters are stored with each hash so they can be raised
later without breaking old accounts. A password check takes the same time whether
or not the user exists, so logins do not reveal which usernames are valid.

Login tokens live here too, beside the accounts they belong to, so that a relay
restarted on the same data directory still recognises every operator who logged
in before: only the token's SHA-256 digest is stored (a 256-bit random value needs
no slow hash), with its expiry. Disabling an account or changing its password
drops its tokens; expired ones are deleted at the next login.

Every call opens its own short SQLite connection, so one :class:`Accounts` can be
used from the event loop and from worker threads alike, and the admin CLI can run
while the relay is up.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import logging
import re
import secrets
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal

from .database import Database, DuplicateKey, Migration, SqliteDatabase, Transaction

__all__ = ["ROLES", "AccountError", "Accounts", "OperatorAccount", "Role", "hash_password", "verify_password"]

logger = logging.getLogger(__name__)

_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
_NAME_MAX = 128


def _add_missing_columns(tx: Transaction) -> None:
    """A file made before ``role`` and ``last_login`` existed gets them (SQLite only)."""
    present = {row[1] for row in tx.execute("PRAGMA table_info(operators)").fetchall()}
    for column, definition in (("role", "TEXT NOT NULL DEFAULT 'operator'"), ("last_login", "REAL")):
        if column not in present:
            tx.execute(f"ALTER TABLE operators ADD COLUMN {column} {definition}")


def _tables(real: str) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE IF NOT EXISTS operators (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    organisation  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    {real} NOT NULL,
    role          TEXT NOT NULL DEFAULT 'operator',
    last_login    {real}
)""",
        f"""CREATE TABLE IF NOT EXISTS tokens (
    token_hash    TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    expires_at    {real} NOT NULL
)""",
        "CREATE INDEX IF NOT EXISTS tokens_by_username ON tokens (username)",
    )


MIGRATIONS = (
    # 1: the tables as they were before migrations were numbered (adopted as they are).
    Migration(1, sqlite=(*_tables("REAL"), _add_missing_columns), postgresql=_tables("DOUBLE PRECISION")),
)

_SELECT = "SELECT username, display_name, organisation, disabled, created_at, role, last_login"
_SELECT_ONE = _SELECT + " FROM operators WHERE username = ?"
_SELECT_ALL = _SELECT + " FROM operators ORDER BY username"
_SELECT_ROLE = _SELECT + " FROM operators WHERE role = ? ORDER BY username"
_SELECT_WITH_HASH = _SELECT + ", password_hash FROM operators WHERE username = ?"
_SELECT_OWNER = (
    "SELECT o.username, o.display_name, o.organisation, o.disabled, o.created_at, o.role, o.last_login, "
    "t.expires_at FROM tokens t JOIN operators o ON o.username = t.username "
    "WHERE t.token_hash = ? AND t.expires_at > ?"
)

Role = Literal["operator", "admin"]
"""``operator``: logs in to the console (``POST /api/login``); ``admin``: to the admin web
(``/admin``) only. One account is never both."""
ROLES: tuple[Role, ...] = ("operator", "admin")


class AccountError(ValueError):
    """An account operation was refused (bad name, weak password, unknown or duplicate user)."""


@dataclasses.dataclass(frozen=True)
class OperatorAccount:
    username: str
    display_name: str
    organisation: str
    disabled: bool
    created_at: float
    role: Role = "operator"
    last_login: float | None = None


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(16) if salt is None else salt
    key = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, key_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(key_b64)
        key = hashlib.scrypt(
            password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected), maxmem=2**26
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key, expected)


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist, so both paths cost one scrypt."""
    return hash_password("not a password", salt=b"\x00" * 16)


class Accounts:
    """The operator table in a SQLite file at ``where`` (created on first use), or in a
    :class:`relay.database.Database` (PostgreSQL, shared by several relay nodes).

    With PostgreSQL unreachable every call raises :class:`relay.database.DatabaseUnavailable`."""

    def __init__(self, where: Path | Database) -> None:
        self.database = SqliteDatabase(where) if isinstance(where, Path) else where
        self.database.migrate("accounts", MIGRATIONS)

    def _db(self) -> AbstractContextManager[Transaction]:
        return self.database.transaction()

    def add(
        self, username: str, password: str, display_name: str, organisation: str, *, role: Role = "operator"
    ) -> OperatorAccount:
        if not _USERNAME.match(username):
            raise AccountError("username: 1-64 characters, letters, digits and . _ @ - only")
        display_name, organisation = display_name.strip(), organisation.strip()
        if not 1 <= len(display_name) <= _NAME_MAX:
            raise AccountError(f"display name: 1-{_NAME_MAX} characters (shown to the customer)")
        if not 1 <= len(organisation) <= _NAME_MAX:
            raise AccountError(f"organisation: 1-{_NAME_MAX} characters (shown to the customer)")
        if role not in ROLES:
            raise AccountError(f"role: one of {', '.join(ROLES)}")
        _check_password(password)
        account = OperatorAccount(username, display_name, organisation, False, time.time(), role)
        try:
            with self._db() as db:
                db.execute(
                    "INSERT INTO operators (username, display_name, organisation, password_hash, disabled, "
                    "created_at, role) VALUES (?, ?, ?, ?, 0, ?, ?)",
                    (username, display_name, organisation, hash_password(password), account.created_at, role),
                )
        except DuplicateKey:
            raise AccountError(f"account {username!r} already exists") from None
        logger.info("%s %s: none -> added", role, username)
        return account

    def set_password(self, username: str, password: str) -> None:
        _check_password(password)
        with self._db() as db:
            cur = db.execute(
                "UPDATE operators SET password_hash = ? WHERE username = ?",
                (hash_password(password), username),
            )
            if cur.rowcount:
                # Whoever knew the old password may hold a token: it ends with the password.
                db.execute("DELETE FROM tokens WHERE username = ?", (username,))
        if cur.rowcount == 0:
            raise AccountError(f"no operator {username!r}")
        logger.info("operator %s: password changed", username)

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self._db() as db:
            cur = db.execute(
                "UPDATE operators SET disabled = ? WHERE username = ?", (int(disabled), username)
            )
            if disabled:
                db.execute("DELETE FROM tokens WHERE username = ?", (username,))
        if cur.rowcount == 0:
            raise AccountError(f"no operator {username!r}")
        state = ("enabled", "disabled") if disabled else ("disabled", "enabled")
        logger.info("operator %s: %s -> %s", username, *state)

    def get(self, username: str) -> OperatorAccount | None:
        with self._db() as db:
            row = db.execute(_SELECT_ONE, (username,)).fetchone()
        return None if row is None else _account(row)

    def list(self, role: Role | None = None) -> list[OperatorAccount]:
        """Every account, or those of one role, by username."""
        with self._db() as db:
            if role is None:
                rows = db.execute(_SELECT_ALL).fetchall()
            else:
                rows = db.execute(_SELECT_ROLE, (role,)).fetchall()
        return [_account(r) for r in rows]

    def disabled_by_username(self) -> dict[str, bool]:
        """Every account's ``disabled`` flag, in one query."""
        with self._db() as db:
            rows = db.execute("SELECT username, disabled FROM operators", ()).fetchall()
        return {row[0]: bool(row[1]) for row in rows}

    def touch_login(self, username: str, now: float) -> None:
        """Remember when ``username`` last logged in (shown in the admin web)."""
        with self._db() as db:
            db.execute("UPDATE operators SET last_login = ? WHERE username = ?", (now, username))

    def check_password(self, username: str, password: str) -> OperatorAccount | None:
        """The account if the password is right (disabled or not), else None. Blocking (~50 ms)."""
        with self._db() as db:
            row = db.execute(_SELECT_WITH_HASH, (username,)).fetchone()
        if row is None:
            verify_password(password, _dummy_hash())
            return None
        if not verify_password(password, row[7]):
            return None
        return _account(row)

    # --- login tokens ---------------------------------------------------------------

    def add_token(self, token_hash: str, username: str, expires_at: float, now: float) -> None:
        """Keep a login token's digest until ``expires_at`` (and forget the expired ones)."""
        with self._db() as db:
            db.execute("DELETE FROM tokens WHERE expires_at <= ?", (now,))
            db.execute("INSERT INTO tokens VALUES (?, ?, ?)", (token_hash, username, expires_at))

    def token_owner(self, token_hash: str, now: float) -> tuple[OperatorAccount, float] | None:
        """The account a live token belongs to (disabled or not) and the token's expiry."""
        with self._db() as db:
            row = db.execute(_SELECT_OWNER, (token_hash, now)).fetchone()
        if row is None:
            return None
        return _account(row), row[7]

    def drop_tokens(self, username: str) -> int:
        """Forget every token of ``username``; how many there were."""
        with self._db() as db:
            return int(db.execute("DELETE FROM tokens WHERE username = ?", (username,)).rowcount)


def _account(row: Any) -> OperatorAccount:
    role: Role = "admin" if row[5] == "admin" else "operator"
    return OperatorAccount(row[0], row[1], row[2], bool(row[3]), row[4], role, row[6])


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise AccountError("password: at most 1024 characters")
