"""The admin web's sessions in the shared database, for several relay nodes.

:class:`relay.admin_session.AdminSessions` keeps sessions in one node's memory; behind
a load balancer without stickiness the next click may reach another node, so with
PostgreSQL (relay/database.py) the relay uses :class:`SharedAdminSessions` instead:
the same calls, the rows in table ``admin_sessions`` of the accounts database. As in
memory, only the SHA-256 of the cookie is kept, never the cookie; the CSRF token is
kept as it is (the pages need it, and it is worth nothing without the cookie). The
idle timeout is checked in the database (``last_seen``), so it holds across nodes,
and a relay restart no longer logs admins out. The language an admin picks is
written through at once.

With the database unreachable every call raises
:class:`relay.database.DatabaseUnavailable`: the admin web needs the database anyway.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from .admin_session import AdminSession, AdminSessions
from .database import Database, Migration

__all__ = ["MIGRATIONS", "SharedAdminSessions"]


def _table(real: str) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE IF NOT EXISTS admin_sessions (
    id_hash   TEXT PRIMARY KEY,
    csrf      TEXT NOT NULL,
    last_seen {real} NOT NULL,
    lang      TEXT NOT NULL,
    username  TEXT
)""",
        "CREATE INDEX IF NOT EXISTS admin_sessions_by_last_seen ON admin_sessions (last_seen)",
    )


MIGRATIONS = (Migration(1, sqlite=_table("REAL"), postgresql=_table("DOUBLE PRECISION")),)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class _StoredSession(AdminSession):
    """An :class:`AdminSession` whose ``lang`` is saved when a page changes it."""

    _save: Callable[[str], None] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        changed = name == "lang" and getattr(self, "lang", value) != value
        super().__setattr__(name, value)
        if changed and self._save is not None:
            self._save(value)


class SharedAdminSessions(AdminSessions):
    def __init__(self, database: Database, idle_timeout_s: float, max_sessions: int = 10_000) -> None:
        super().__init__(idle_timeout_s, max_sessions)
        self.database = database
        database.migrate("admin_sessions", MIGRATIONS)

    def __len__(self) -> int:
        with self.database.transaction() as tx:
            return int(tx.execute("SELECT COUNT(*) FROM admin_sessions", ()).fetchone()[0])

    def _stored(self, key: str, csrf: str, last_seen: float, lang: str, username: str | None) -> AdminSession:
        session = _StoredSession(csrf=csrf, last_seen=last_seen, lang=lang, username=username)

        def save(lang: str) -> None:
            with self.database.transaction() as tx:
                tx.execute("UPDATE admin_sessions SET lang = ? WHERE id_hash = ?", (lang, key))

        object.__setattr__(session, "_save", save)
        return session

    def start(self, now: float, *, lang: str = "ja", username: str | None = None) -> tuple[str, AdminSession]:
        cookie = secrets.token_urlsafe(32)
        key, csrf = _digest(cookie), secrets.token_urlsafe(32)
        with self.database.transaction() as tx:
            tx.execute(
                "INSERT INTO admin_sessions (id_hash, csrf, last_seen, lang, username) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, csrf, now, lang, username),
            )
            count = int(tx.execute("SELECT COUNT(*) FROM admin_sessions", ()).fetchone()[0])
            if count > self.max_sessions:  # a flood of login pages: the oldest go
                tx.execute(
                    "DELETE FROM admin_sessions WHERE id_hash IN "
                    "(SELECT id_hash FROM admin_sessions ORDER BY last_seen LIMIT ?)",
                    (count - self.max_sessions,),
                )
        return cookie, self._stored(key, csrf, now, lang, username)

    def get(self, cookie: str | None, now: float) -> AdminSession | None:
        if not cookie:
            return None
        key = _digest(cookie)
        with self.database.transaction() as tx:
            row = tx.execute(
                "UPDATE admin_sessions SET last_seen = ? WHERE id_hash = ? AND last_seen > ? "
                "RETURNING csrf, lang, username",
                (now, key, now - self.idle_timeout_s),
            ).fetchone()
            if row is None:
                tx.execute("DELETE FROM admin_sessions WHERE id_hash = ?", (key,))
                return None
        return self._stored(key, row[0], now, row[1], row[2])

    def end(self, cookie: str | None) -> None:
        if cookie:
            with self.database.transaction() as tx:
                tx.execute("DELETE FROM admin_sessions WHERE id_hash = ?", (_digest(cookie),))

    def end_user(self, username: str) -> int:
        with self.database.transaction() as tx:
            return int(tx.execute("DELETE FROM admin_sessions WHERE username = ?", (username,)).rowcount)

    def prune(self, now: float) -> None:
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM admin_sessions WHERE last_seen <= ?", (now - self.idle_timeout_s,))
