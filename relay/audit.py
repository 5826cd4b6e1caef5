"""The append-only audit trail (SQLite, or PostgreSQL for several relay nodes).

One row per event: codes issued/expired, claims failed/succeeded (operator, IP),
allow/deny, session start/end (duration, who ended it), lockouts, logins,
protocol errors. Rows never hold screen content, passwords, tokens or resume
tokens (the registry's :class:`relay.effects.Audit` has no field for them).
Triggers make the table append-only: UPDATE and DELETE abort (and TRUNCATE on
PostgreSQL, where every relay node writes to one trail; relay/database.py).

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
import os
import queue
import threading
from pathlib import Path
from typing import Any, TextIO

from .database import Database, DatabaseUnavailable, Migration, SqliteDatabase
from .effects import Audit

__all__ = ["AuditLog", "AuditRow"]

logger = logging.getLogger(__name__)

_SQLITE = (
    """CREATE TABLE IF NOT EXISTS audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ts         REAL NOT NULL,
    time       TEXT NOT NULL,
    event      TEXT NOT NULL,
    operator   TEXT,
    ip         TEXT,
    session_id TEXT,
    code       TEXT,
    detail     TEXT NOT NULL DEFAULT '{}'
)""",
    "CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts)",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
)
_POSTGRESQL = (
    """CREATE TABLE audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts         DOUBLE PRECISION NOT NULL,
    time       TEXT NOT NULL,
    event      TEXT NOT NULL,
    operator   TEXT,
    ip         TEXT,
    session_id TEXT,
    code       TEXT,
    detail     TEXT NOT NULL DEFAULT '{}'
)""",
    "CREATE INDEX audit_ts ON audit (ts)",
    # Append-only as on SQLite: UPDATE, DELETE and TRUNCATE abort (relay/database.py).
    """CREATE OR REPLACE FUNCTION madoguchi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$""",
    """CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION madoguchi_append_only('the audit trail is append-only')""",
    """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
FOR EACH STATEMENT EXECUTE FUNCTION madoguchi_append_only('the audit trail is append-only')""",
)
MIGRATIONS = (Migration(1, sqlite=_SQLITE, postgresql=_POSTGRESQL),)


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


_INSERT = (
    "INSERT INTO audit (ts, time, event, operator, ip, session_id, code, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


_BATCH_MAX = 500


class AuditLog:
    """Writes audit rows; safe to share between threads.

    ``where``: a SQLite file (one connection, one lock) or a shared
    :class:`relay.database.Database` (PostgreSQL). With ``spool`` (a file in this node's
    data directory), rows are handed to a writer thread, in order, so that the event
    loop never waits on the network; it writes them in batches. A row that cannot
    reach the database is not lost: it is appended to the spool (one JSON line,
    flushed to disk), and so is every row after it while the spool is not empty, so
    the order holds. :meth:`replay` (run every second by the relay, off the event loop)
    writes the spooled rows, oldest first, in one transaction once the database is back.
    A node that stops meanwhile keeps its spool and replays it when it starts again.
    A crash in the instant between that commit and the spool's rewrite would write
    those rows twice: duplicated, never lost.
    Rows still queued for the writer survive a killed process (``kill -9``): each row
    is appended to a journal next to the spool (``audit-spool.journal``, written through
    to the operating system before :meth:`write` returns) and the journal is emptied
    whenever the writer has caught up. A node that starts with a non-empty journal moves
    its rows to the spool, where :meth:`replay` writes them: the rows of the last
    moments may then be written twice (duplicated, never lost). A power cut can still
    lose the last rows that the operating system had not yet written to disk.
    """

    def __init__(self, where: Path | Database, *, spool: Path | None = None) -> None:
        self._owned = isinstance(where, Path)
        self.database = SqliteDatabase(where, keep_open=True) if isinstance(where, Path) else where
        self.database.migrate("audit", MIGRATIONS)
        self._spool = spool
        self._spool_lock = threading.Lock()
        self._spooled = len(self._spooled_lines())
        if self._spooled:
            logger.warning("audit: %d rows wait in %s for the database", self._spooled, spool)
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._pending = 0
        self._drained = threading.Condition()
        self._writer: threading.Thread | None = None
        self._journal: TextIO | None = None
        if spool is not None:
            spool.parent.mkdir(parents=True, exist_ok=True)
            self._recover_journal(spool.with_suffix(".journal"))
            self._journal = spool.with_suffix(".journal").open("a", encoding="utf-8")
            self._writer = threading.Thread(target=self._write_queued, name="audit-writer", daemon=True)
            self._writer.start()

    @property
    def spooled(self) -> int:
        """Rows waiting in the spool for the database."""
        return self._spooled

    def write(self, record: Audit, now: float) -> None:
        when = dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="milliseconds")
        detail = json.dumps(dict(record.detail), ensure_ascii=False, default=str, sort_keys=True)
        if _storable(detail) != detail:  # \u escapes keep the JSON exact and storable
            detail = json.dumps(dict(record.detail), default=str, sort_keys=True)
        texts = (record.event, record.operator, record.ip, record.session_id, record.code, detail)
        values = (now, when, *(_storable(t) for t in texts))
        if self._writer is None:
            with self.database.transaction() as tx:
                tx.execute(_INSERT, values)
            return
        with self._drained:  # the journal's order is the queue's
            if self._journal is not None:
                self._journal.write(json.dumps(values, ensure_ascii=False) + "\n")
                self._journal.flush()  # to the operating system: a killed process loses nothing
            self._pending += 1
            self._queue.put(values)

    def _recover_journal(self, journal: Path) -> None:
        """Rows a stopped process had queued: to the spool, behind what it had spooled."""
        try:
            lines = [line for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return
        if lines:
            with self._spool_lock:
                assert self._spool is not None
                with self._spool.open("a", encoding="utf-8") as spool:
                    spool.write("".join(line + "\n" for line in lines))
                    spool.flush()
                    os.fsync(spool.fileno())
                self._spooled += len(lines)
            logger.warning(
                "audit: %d rows a stopped process had queued moved from %s to the spool", len(lines), journal
            )
        journal.unlink()

    def _write_queued(self) -> None:
        """The writer thread (shared database): the event loop never waits on the network."""
        while True:
            first = self._queue.get()
            batch = [first]
            while len(batch) < _BATCH_MAX and not self._queue.empty():
                batch.append(self._queue.get())
            rows = [row for row in batch if row is not None]
            try:
                self._store(rows)
            except Exception:  # a bug: keep the rows, keep the thread
                logger.exception("audit: %d rows could not be written; spooling them", len(rows))
                try:
                    with self._spool_lock:
                        self._append(rows)
                except OSError:
                    logger.exception("audit: %d rows lost: the spool cannot be written", len(rows))
            with self._drained:
                self._pending -= len(rows)
                if self._pending == 0 and self._journal is not None:
                    self._journal.seek(0)  # every journaled row is in the database or the spool
                    self._journal.truncate()
                self._drained.notify_all()
            if None in batch:
                return

    def _store(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self._spool_lock:
            if not self._spooled and self.database.available:
                try:
                    with self.database.transaction() as tx:
                        tx.executemany(_INSERT, rows)
                    return
                except DatabaseUnavailable:
                    pass
            self._append(rows)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the rows written so far are in the database or the spool; whether they are."""
        with self._drained:
            return self._drained.wait_for(lambda: self._pending == 0, timeout_s)

    def _append(self, rows: list[tuple[Any, ...]]) -> None:
        assert self._spool is not None
        with self._spool.open("a", encoding="utf-8") as spool:
            spool.write("".join(json.dumps(values, ensure_ascii=False) + "\n" for values in rows))
            spool.flush()
            os.fsync(spool.fileno())
        if self._spooled == 0:
            logger.warning("audit: writing -> spooling to %s (the database is unreachable)", self._spool)
        self._spooled += len(rows)

    def _spooled_lines(self) -> list[str]:
        if self._spool is None:
            return []
        try:
            return [line for line in self._spool.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    def replay(self) -> int:
        """Write the spooled rows to the database, oldest first; how many (0 if it is still down).

        Blocking: call it from a worker thread. Rows written meanwhile go on queueing
        behind them, so the trail keeps this node's order."""
        with self._spool_lock:
            if not self._spooled:
                return 0
            lines = self._spooled_lines()
        rows: list[tuple[Any, ...]] = []
        for line in lines:
            try:
                rows.append(tuple(json.loads(line)))
            except ValueError:  # torn by a crash mid-write: the rest is still good
                logger.error("audit: an unreadable spooled row skipped: %r", line[:200])
        try:
            with self.database.transaction() as tx:
                tx.executemany(_INSERT, rows)
        except DatabaseUnavailable:
            return 0
        except Exception:  # a row the database refuses (a bug) must not hold the rest back
            logger.exception("audit: spooled rows refused together; writing them one by one")
            if not self._replay_one_by_one(rows):
                return 0
        assert self._spool is not None
        with self._spool_lock:
            rest = self._spooled_lines()[len(lines) :]
            tmp = self._spool.with_suffix(".tmp")
            tmp.write_text("".join(line + "\n" for line in rest), encoding="utf-8")
            os.replace(tmp, self._spool)
            self._spooled = len(rest)
            if not rest:
                logger.warning("audit: spooling -> writing (%d spooled rows written)", len(rows))
        return len(rows)

    def _replay_one_by_one(self, rows: list[tuple[Any, ...]]) -> bool:
        assert self._spool is not None
        for row in rows:
            try:
                with self.database.transaction() as tx:
                    tx.execute(_INSERT, row)
            except DatabaseUnavailable:
                return False  # those written so far will be written again: duplicated, not lost
            except Exception:
                kept = self._spool.with_name(self._spool.name + ".refused")
                logger.error("audit: a spooled row the database refuses is kept in %s", kept)
                with kept.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return True

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
        """Rows in order, filtered; ``newest``: only the last so many (still oldest first).

        This node's rows written before the call are included (unless spooled)."""
        self.flush()
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
        with self.database.transaction() as tx:
            fetched = tx.execute(query, params).fetchall()
        if newest is not None:
            fetched.reverse()
        return [AuditRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8])) for r in fetched]

    def close(self) -> None:
        """Write what is queued, then close the SQLite file opened here (a shared
        database is closed by its owner)."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(30)
            self._writer = None
            if self._journal is not None:
                self._journal.close()
                self._journal = None
        if self._owned:
            self.database.close()


def _storable(text: str | None) -> str | None:
    """Text SQLite can store: a row must never be lost because of what a client typed.

    The protocol decoder already refuses lone surrogates; this is the last line for
    any text that reaches the audit by another path. They are kept visible as
    ``\\udXXX`` escapes rather than dropped.
    """
    if text is None or text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
