"""Settings an admin changes while the relay runs, with their history (SQLite or PostgreSQL).

The relay's TOML file gives the starting values; the admin web (relay/admin_web.py)
appends changes to ``settings.db`` in the data directory, one row per key changed,
with who and when. The newest row of a key wins, over the TOML value too, and
survives a restart. The rows are never updated or deleted: they are the history.
With PostgreSQL (relay/database.py) every relay node shares the history: each node
picks up the others' changes within a second or two (:meth:`Settings.refresh`).

Keys: the capacity limits in :data:`CAPACITY_KEYS` (whole numbers) and the consent
terms ``terms_ja`` and ``terms_en``, which ``GET /api/terms`` serves (the agent and the
browser normal mode fetch them before the customer agrees).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from .config import Limits, RelayConfig
from .database import Database, DatabaseUnavailable, Migration, SqliteDatabase, Transaction

__all__ = [
    "CAPACITY_KEYS",
    "SettingChange",
    "Settings",
    "SettingsError",
    "check_terms",
    "parse_capacity",
    "terms_version",
]

logger = logging.getLogger(__name__)

CAPACITY_KEYS = ("max_sessions", "max_sessions_per_operator", "max_live_codes")
"""The limits an admin may change at run time (the rest stay in the TOML file)."""
TERMS_KEYS = ("terms_ja", "terms_en")
TERMS_MAX_CHARS = 5_000
"""Per language. The form carries both texts URL-encoded (a Japanese character is 9 bytes
there), under the relay's body limit ``max_message_bytes`` (64 KiB): 5,000 characters of
each fit. Terms are a page or two; the relay.toml file has no such limit."""
_CAPACITY_MAX = 100_000
_REREAD_IDS = 1_000

MIGRATIONS = (
    Migration(
        1,
        sqlite=(
            """CREATE TABLE IF NOT EXISTS settings_history (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    ts     REAL NOT NULL,
    admin  TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL
)""",
            """CREATE TRIGGER IF NOT EXISTS settings_no_update BEFORE UPDATE ON settings_history
BEGIN SELECT RAISE(ABORT, 'the settings history is append-only'); END""",
            """CREATE TRIGGER IF NOT EXISTS settings_no_delete BEFORE DELETE ON settings_history
BEGIN SELECT RAISE(ABORT, 'the settings history is append-only'); END""",
        ),
        postgresql=(
            """CREATE TABLE settings_history (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts     DOUBLE PRECISION NOT NULL,
    admin  TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL
)""",
            # The same function as the audit's (relay/audit.py): whichever migrates first makes it.
            """CREATE OR REPLACE FUNCTION madoguchi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$""",
            """CREATE TRIGGER settings_append_only BEFORE UPDATE OR DELETE ON settings_history
FOR EACH ROW EXECUTE FUNCTION madoguchi_append_only('the settings history is append-only')""",
            """CREATE TRIGGER settings_no_truncate BEFORE TRUNCATE ON settings_history
FOR EACH STATEMENT EXECUTE FUNCTION madoguchi_append_only('the settings history is append-only')""",
        ),
    ),
)


class SettingsError(ValueError):
    """A value an admin typed is not acceptable; the message names the field."""


@dataclasses.dataclass(frozen=True)
class SettingChange:
    id: int
    ts: float
    admin: str
    key: str
    value: str


def terms_version(text: str) -> str:
    """The version of a terms text: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def parse_capacity(form: Mapping[str, str]) -> dict[str, int]:
    """The capacity limits from a form: whole numbers from 1 to 100,000."""
    values: dict[str, int] = {}
    for key in CAPACITY_KEYS:
        text = form.get(key, "").strip()
        try:
            value = int(text)
        except ValueError:
            raise SettingsError(f"{key}: a whole number") from None
        if not 1 <= value <= _CAPACITY_MAX:
            raise SettingsError(f"{key}: from 1 to {_CAPACITY_MAX}")
        values[key] = value
    if values["max_sessions_per_operator"] > values["max_sessions"]:
        raise SettingsError("max_sessions_per_operator: at most max_sessions")
    return values


def check_terms(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise SettingsError("terms: must not be empty")
    if len(text) > TERMS_MAX_CHARS:
        raise SettingsError(f"terms: at most {TERMS_MAX_CHARS} characters")
    return text


class Settings:
    """The current settings (TOML values, overridden by the newest change) and their history."""

    def __init__(self, where: Path | Database, config: RelayConfig) -> None:
        self.database = SqliteDatabase(where) if isinstance(where, Path) else where
        self._config = config
        self.database.migrate("settings", MIGRATIONS)
        self._lock = threading.Lock()
        self._current: dict[str, str] = {}
        self._last_id = 0
        self._pull()

    def _db(self) -> AbstractContextManager[Transaction]:
        return self.database.transaction()

    def refresh(self) -> bool:
        """Take the changes made since the last look (by another relay node sharing the
        database); whether anything changed. Blocking, one indexed query: the relay calls
        it every second or so off the event loop. A database that is unreachable changes
        nothing: the last known values stay in force."""
        try:
            return self._pull()
        except DatabaseUnavailable:
            return False

    def _pull(self) -> bool:
        with self._db() as db:
            # A window below the last id seen: on PostgreSQL a change may commit after one
            # with a higher id (another node's); the window's rows in id order still end
            # on each key's newest row.
            rows = db.execute(
                "SELECT id, key, value FROM settings_history WHERE id > ? ORDER BY id",
                (self._last_id - _REREAD_IDS,),
            ).fetchall()
        with self._lock:
            known = CAPACITY_KEYS + TERMS_KEYS
            fresh = {key: value for _, key, value in rows if key in known}
            changed = {k: v for k, v in fresh.items() if self._current.get(k) != v}
            if rows:
                self._last_id = max(self._last_id, *(row[0] for row in rows))
            self._current |= fresh
        return bool(changed)

    def terms(self, lang: str) -> str:
        return self._current.get(f"terms_{lang}") or self._config.terms(lang)

    def limits(self) -> Limits:
        changed = {k: int(v) for k, v in self._current.items() if k in CAPACITY_KEYS}
        return dataclasses.replace(self._config.limits, **changed)

    def change(self, values: Mapping[str, str | int], admin: str, now: float) -> dict[str, str]:
        """Record the values that differ from the current ones; those (key -> new value)."""
        current: dict[str, str] = {k: str(getattr(self.limits(), k)) for k in CAPACITY_KEYS}
        current |= {k: self.terms(k.removeprefix("terms_")) for k in TERMS_KEYS}
        changed = {k: str(v) for k, v in values.items() if k in current and str(v) != current[k]}
        if changed:
            with self._db() as db:
                db.executemany(
                    "INSERT INTO settings_history (ts, admin, key, value) VALUES (?, ?, ?, ?)",
                    [(now, admin, k, v) for k, v in changed.items()],
                )
            try:
                self._pull()  # in id order with other nodes' changes: the newest row wins everywhere
            except DatabaseUnavailable:  # gone since the insert: in force here all the same
                with self._lock:
                    self._current |= changed
            logger.info("settings: %s changed by %s", ", ".join(sorted(changed)), admin)
        return changed

    def history(self, newest: int = 50) -> list[SettingChange]:
        """The last changes, newest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id, ts, admin, key, value FROM settings_history ORDER BY id DESC LIMIT ?", (newest,)
            ).fetchall()
        return [SettingChange(*row) for row in rows]
