"""Settings an admin changes while the relay runs, with their history (SQLite or PostgreSQL).

The relay's TOML file gives the starting values; the admin web (relay/admin_web.py)
appends changes to ``settings.db`` in the data directory, one row per key changed,
with who and when. The newest row of a key wins, over the TOML value too, and
survives a restart. The rows are never updated or deleted: they are the history.
With PostgreSQL (relay/database.py) every relay node shares the history: each node
picks up the others' changes within a second or two (:meth:`Settings.refresh`).

Keys: the capacity limits in :data:`CAPACITY_KEYS` (whole numbers); the consent
terms ``terms_ja`` and ``terms_en``, which ``GET /api/terms`` serves (the agent and the
browser normal mode fetch them before the customer agrees); the co-browse rules in
:data:`COBROWSE_KEYS` (one pattern or selector a line), which ``GET /api/cobrowse/config``
serves to the site's script; and the branding in :data:`BRAND_KEYS` (company name and
colour), shown on the start page and in the co-browse launcher (relay/web.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from .config import Limits, RelayConfig
from .database import Database, DatabaseUnavailable, Migration, SqliteDatabase, Transaction

__all__ = [
    "BRAND_KEYS",
    "CAPACITY_KEYS",
    "COBROWSE_KEYS",
    "Branding",
    "SettingChange",
    "Settings",
    "SettingsError",
    "check_terms",
    "parse_branding",
    "parse_capacity",
    "parse_cobrowse_rules",
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
COBROWSE_KEYS = (
    "cobrowse_shareable",
    "cobrowse_mask_selectors",
    "cobrowse_block_selectors",
    "cobrowse_keyboard_selectors",
)
"""The co-browse rules (docs/cobrowse.md); the relay.toml ``[cobrowse]`` lists are their start."""
BRAND_KEYS = ("site_company_name", "site_brand_colour")
"""The start page's and the launcher's branding; relay.toml ``[site]`` gives their start."""
RULE_MAX_LINES = 50
RULE_MAX_CHARS = 200
COMPANY_MAX_CHARS = 60
_SELECTOR_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f{};<>]")
"""A selector never needs these; a stylesheet or markup would."""
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f<>]")
_COLOUR = re.compile(r"#[0-9a-f]{6}")

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


def _lines(key: str, text: str) -> list[str]:
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > RULE_MAX_LINES:
        raise SettingsError(f"{key}: at most {RULE_MAX_LINES} lines")
    for line in lines:
        if len(line) > RULE_MAX_CHARS:
            raise SettingsError(f"{key}: at most {RULE_MAX_CHARS} characters a line")
        if _SELECTOR_FORBIDDEN.search(line):
            raise SettingsError(f"{key}: {line!r} has a character a selector never needs")
        if key == "cobrowse_shareable" and not line.startswith("/"):
            raise SettingsError(f"{key}: {line!r} must be a path starting with /")
    return lines


def parse_cobrowse_rules(form: Mapping[str, str]) -> dict[str, str]:
    """The co-browse rules from a form: one URL path pattern or CSS selector a line.

    Blank lines are dropped; each value is stored as its lines joined by newlines. A
    selector the browser cannot parse is dropped there on its own (docs/cobrowse.md)."""
    return {key: "\n".join(_lines(key, form.get(key, ""))) for key in COBROWSE_KEYS}


def parse_branding(form: Mapping[str, str]) -> dict[str, str]:
    """The company name (may be empty: a neutral page) and the colour, ``#rrggbb``."""
    name = form.get("site_company_name", "").strip()
    if len(name) > COMPANY_MAX_CHARS:
        raise SettingsError(f"site_company_name: at most {COMPANY_MAX_CHARS} characters")
    if _NAME_FORBIDDEN.search(name):
        raise SettingsError("site_company_name: no control characters or < >")
    colour = form.get("site_brand_colour", "").strip().lower()
    if not _COLOUR.fullmatch(colour):
        raise SettingsError("site_brand_colour: #rrggbb")
    return {"site_company_name": name, "site_brand_colour": colour}


@dataclasses.dataclass(frozen=True)
class Branding:
    company_name: str
    brand_colour: str


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
            known = CAPACITY_KEYS + TERMS_KEYS + COBROWSE_KEYS + BRAND_KEYS
            fresh = {key: value for _, key, value in rows if key in known}
            changed = {k: v for k, v in fresh.items() if self._current.get(k) != v}
            if rows:
                self._last_id = max(self._last_id, *(row[0] for row in rows))
            self._current |= fresh
        return bool(changed)

    def terms(self, lang: str) -> str:
        return self._current.get(f"terms_{lang}") or self._config.terms(lang)

    def cobrowse_rules(self) -> dict[str, list[str]]:
        """``shareable``, ``mask_selectors``, ``block_selectors``, ``keyboard_selectors``."""
        rules: dict[str, list[str]] = {}
        for key in COBROWSE_KEYS:
            changed = self._current.get(key)
            configured: tuple[str, ...] = getattr(self._config, key)
            values = configured if changed is None else changed.split("\n")
            rules[key.removeprefix("cobrowse_")] = [v for v in values if v]
        return rules

    def branding(self) -> Branding:
        return Branding(
            company_name=self._current.get("site_company_name", self._config.site_company_name),
            brand_colour=self._current.get("site_brand_colour", self._config.site_brand_colour),
        )

    def limits(self) -> Limits:
        changed = {k: int(v) for k, v in self._current.items() if k in CAPACITY_KEYS}
        return dataclasses.replace(self._config.limits, **changed)

    def change(self, values: Mapping[str, str | int], admin: str, now: float) -> dict[str, str]:
        """Record the values that differ from the current ones; those (key -> new value)."""
        current: dict[str, str] = {k: str(getattr(self.limits(), k)) for k in CAPACITY_KEYS}
        current |= {k: self.terms(k.removeprefix("terms_")) for k in TERMS_KEYS}
        current |= {f"cobrowse_{k}": "\n".join(v) for k, v in self.cobrowse_rules().items()}
        brand = self.branding()
        current |= {"site_company_name": brand.company_name, "site_brand_colour": brand.brand_colour}
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
