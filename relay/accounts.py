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
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

__all__ = ["AccountError", "Accounts", "OperatorAccount", "hash_password", "verify_password"]

logger = logging.getLogger(__name__)

_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
_NAME_MAX = 128

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operators (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    organisation  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash    TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    expires_at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_username ON tokens (username);
"""


class AccountError(ValueError):
    """An account operation was refused (bad name, weak password, unknown or duplicate user)."""


@dataclasses.dataclass(frozen=True)
class OperatorAccount:
    username: str
    display_name: str
    organisation: str
    disabled: bool
    created_at: float


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
    """The operator table in ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            yield db

    def add(self, username: str, password: str, display_name: str, organisation: str) -> OperatorAccount:
        if not _USERNAME.match(username):
            raise AccountError("username: 1-64 characters, letters, digits and . _ @ - only")
        display_name, organisation = display_name.strip(), organisation.strip()
        if not 1 <= len(display_name) <= _NAME_MAX:
            raise AccountError(f"display name: 1-{_NAME_MAX} characters (shown to the customer)")
        if not 1 <= len(organisation) <= _NAME_MAX:
            raise AccountError(f"organisation: 1-{_NAME_MAX} characters (shown to the customer)")
        _check_password(password)
        account = OperatorAccount(username, display_name, organisation, False, time.time())
        try:
            with self._db() as db:
                db.execute(
                    "INSERT INTO operators VALUES (?, ?, ?, ?, 0, ?)",
                    (username, display_name, organisation, hash_password(password), account.created_at),
                )
        except sqlite3.IntegrityError:
            raise AccountError(f"operator {username!r} already exists") from None
        logger.info("operator %s: none -> added", username)
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
            row = db.execute(
                "SELECT username, display_name, organisation, disabled, created_at FROM operators "
                "WHERE username = ?",
                (username,),
            ).fetchone()
        return None if row is None else OperatorAccount(row[0], row[1], row[2], bool(row[3]), row[4])

    def list(self) -> list[OperatorAccount]:
        with self._db() as db:
            rows = db.execute(
                "SELECT username, display_name, organisation, disabled, created_at FROM operators "
                "ORDER BY username"
            ).fetchall()
        return [OperatorAccount(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def check_password(self, username: str, password: str) -> OperatorAccount | None:
        """The account if the password is right (disabled or not), else None. Blocking (~50 ms)."""
        with self._db() as db:
            row = db.execute(
                "SELECT username, display_name, organisation, disabled, created_at, password_hash "
                "FROM operators WHERE username = ?",
                (username,),
            ).fetchone()
        if row is None:
            verify_password(password, _dummy_hash())
            return None
        if not verify_password(password, row[5]):
            return None
        return OperatorAccount(row[0], row[1], row[2], bool(row[3]), row[4])

    # --- login tokens ---------------------------------------------------------------

    def add_token(self, token_hash: str, username: str, expires_at: float, now: float) -> None:
        """Keep a login token's digest until ``expires_at`` (and forget the expired ones)."""
        with self._db() as db:
            db.execute("DELETE FROM tokens WHERE expires_at <= ?", (now,))
            db.execute("INSERT INTO tokens VALUES (?, ?, ?)", (token_hash, username, expires_at))

    def token_owner(self, token_hash: str, now: float) -> tuple[OperatorAccount, float] | None:
        """The account a live token belongs to (disabled or not) and the token's expiry."""
        with self._db() as db:
            row = db.execute(
                "SELECT o.username, o.display_name, o.organisation, o.disabled, o.created_at, t.expires_at "
                "FROM tokens t JOIN operators o ON o.username = t.username "
                "WHERE t.token_hash = ? AND t.expires_at > ?",
                (token_hash, now),
            ).fetchone()
        if row is None:
            return None
        return OperatorAccount(row[0], row[1], row[2], bool(row[3]), row[4]), row[5]

    def drop_tokens(self, username: str) -> int:
        """Forget every token of ``username``; how many there were."""
        with self._db() as db:
            return db.execute("DELETE FROM tokens WHERE username = ?", (username,)).rowcount


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise AccountError("password: at most 1024 characters")
