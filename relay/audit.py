"""The append-only audit trail (SQLite).

One row per event: codes issued/expired, claims failed/succeeded (operator, IP),
allow/deny, session start/end (duration, who ended it), lockouts, logins,
protocol errors. Rows never hold screen content, passwords, tokens or resume
tokens (the registry's :class:`relay.effects.Audit` has no field for them).
Triggers make the table append-only: UPDATE and DELETE abort.

Event names (the ``event`` column): code_issued, code_expired, code_withdrawn,
registration_refused, claim_succeeded, claim_failed, join_succeeded, join_failed,
lockout, failed_claims_alarm, allowed, denied, allow_timeout, claim_ended,
session_started, session_ended, agent_resumed, resume_failed, login_succeeded,
login_failed, operator_auth_failed, protocol_error, operator_added,
operator_disabled, operator_enabled, and the admin web's (relay/admin_web.py): admin_login,
admin_login_failed, admin_logout, admin_session_ended, admin_operator_added,
admin_operator_disabled, admin_operator_enabled, admin_password_reset, admin_audit_exported,
admin_settings_changed, admin_csrf_refused, admin_added (CLI); their ``detail["admin"]`` names the admin.
``allowed`` carries the customer's choice about the PC information in
``detail["system_info"]`` (the scope, or ``"declined"``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from .effects import Audit

__all__ = ["AuditLog", "AuditRow"]

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ts         REAL NOT NULL,
    time       TEXT NOT NULL,
    event      TEXT NOT NULL,
    operator   TEXT,
    ip         TEXT,
    session_id TEXT,
    code       TEXT,
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


@dataclasses.dataclass(frozen=True)
class AuditRow:
    id: int
    ts: float
    time: str
    event: str
    operator: str | None
    ip: str | None
    session_id: str | None
    code: str | None
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class AuditLog:
    """Writes audit rows; safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: with WAL a crash can lose the last rows but never corrupt the file,
        # and writes stay cheap enough to do on the event loop.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def write(self, record: Audit, now: float) -> None:
        when = dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="milliseconds")
        detail = json.dumps(dict(record.detail), ensure_ascii=False, default=str, sort_keys=True)
        if _storable(detail) != detail:  # \u escapes keep the JSON exact and storable
            detail = json.dumps(dict(record.detail), default=str, sort_keys=True)
        texts = (record.event, record.operator, record.ip, record.session_id, record.code, detail)
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (ts, time, event, operator, ip, session_id, code, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now, when, *(_storable(t) for t in texts)),
            )

    def rows(
        self,
        *,
        since: float | None = None,
        event: str | None = None,
        until: float | None = None,
        operator: str | None = None,
        code: str | None = None,
        newest: int | None = None,
    ) -> list[AuditRow]:
        """Rows in order, filtered; ``newest``: only the last so many (still oldest first)."""
        query = "SELECT id, ts, time, event, operator, ip, session_id, code, detail FROM audit WHERE 1=1"
        params: list[Any] = []
        for clause, value in (
            (" AND ts >= ?", since),
            (" AND ts < ?", until),
            (" AND event = ?", event),
            (" AND operator = ?", operator),
            (" AND code = ?", code),
        ):
            if value is not None:
                query += clause
                params.append(value)
        if newest is not None:
            query += " ORDER BY id DESC LIMIT ?"
            params.append(newest)
        else:
            query += " ORDER BY id"
        with self._lock:
            fetched = self._db.execute(query, params).fetchall()
        if newest is not None:
            fetched.reverse()
        return [AuditRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8])) for r in fetched]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _storable(text: str | None) -> str | None:
    """Text SQLite can store: a row must never be lost because of what a client typed.

    The protocol decoder already refuses lone surrogates; this is the last line for
    any text that reaches the audit by another path. They are kept visible as
    ``\\udXXX`` escapes rather than dropped.
    """
    if text is None or text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
