"""Where accounts, tokens, audit, settings and admin sessions are kept: SQLite or PostgreSQL.

One small interface, :class:`Database`, over two engines:

* **SQLite** (the default): one file per component in the data directory, as before
  (``accounts.sqlite3``, ``audit.sqlite3``, ``settings.sqlite3``). Nothing to install;
  one node.
* **PostgreSQL** (``database = "postgresql://…"`` in relay.toml): one database shared
  by every relay node, through psycopg 3 and a psycopg_pool connection pool.

Why the *synchronous* psycopg API: :class:`relay.accounts.Accounts`,
:class:`relay.audit.AuditLog` and :class:`relay.settings.Settings` are called
synchronously from the sans-IO registry (token checks, audit effects) and from the
admin web, and slow calls (scrypt, listings) already go through
``asyncio.to_thread``. An async driver would force every one of those call sites to
become a coroutine; a sync pool keeps the components' API and the SQLite behaviour
as they are, and the few calls made on the event loop are single indexed queries
(well under a millisecond on a LAN). What must never happen is the loop waiting on a
database that is down: after one connection failure the database is marked
*unavailable* and every call fails at once with :class:`DatabaseUnavailable`, without
touching the network, until :meth:`Database.check` (run by the relay off the event
loop every second) reaches it again.

SQL is written once, with ``?`` placeholders (SQLite's); the PostgreSQL side turns them
into ``%s``. Each component keeps its own DDL per engine (types differ: ``DOUBLE
PRECISION`` for timestamps, identity columns, PL/pgSQL triggers).

Migrations: each component (``accounts``, ``audit``, ``settings``, ``admin_sessions``)
has a list of numbered :class:`Migration`\\ s, applied at start in order, inside one
transaction, and recorded in ``schema_version (component, version, applied_at)``. On
PostgreSQL the transaction first takes an advisory lock, so several nodes starting at
once apply each migration exactly once (the others wait, then find it recorded). On
SQLite ``BEGIN IMMEDIATE`` does the same between the relay and the admin CLI. A
SQLite file made before migrations existed has no ``schema_version``: migration 1 is
written with ``IF NOT EXISTS`` so that it adopts such a file unchanged.

Errors (few, each with its cause chained)::

    DatabaseError
     ├── DatabaseUnavailable   cannot reach PostgreSQL (or it went away mid-call)
     └── DuplicateKey          a unique key already taken (an account name)
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from .config import ConfigError, RelayConfig

__all__ = [
    "Database",
    "DatabaseError",
    "DatabaseUnavailable",
    "Dialect",
    "DuplicateKey",
    "Migration",
    "PostgresDatabase",
    "SqliteDatabase",
    "Storage",
    "Transaction",
    "open_storage",
    "redact_dsn",
]

logger = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]
_ADVISORY_KEY = 0x6D61646F6775  # "madogu": the migration lock, one per database


class DatabaseError(Exception):
    """Base of the storage errors."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached; logins fail, live sessions carry on (docs/operations.md)."""


class DuplicateKey(DatabaseError):
    """A row with this unique key exists already."""


class Rows(Protocol):
    """What a statement returns (a DB-API cursor of either driver)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Transaction(abc.ABC):
    """One transaction: committed when the ``with`` block ends, rolled back if it raises."""

    dialect: Dialect

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Rows: ...

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


Step = str | Callable[[Transaction], None]


@dataclasses.dataclass(frozen=True)
class Migration:
    """One schema change of a component, in each engine's SQL (statements or a function)."""

    version: int
    sqlite: Sequence[Step]
    postgresql: Sequence[Step]


class Database(abc.ABC):
    dialect: Dialect
    shared: bool
    """True when several relay nodes use this database (PostgreSQL)."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Transaction]:
        """``with db.transaction() as tx:`` -> :class:`Transaction`."""

    @abc.abstractmethod
    def _migration_lock(self, tx: Transaction) -> None: ...

    @property
    def available(self) -> bool:
        return True

    def check(self) -> bool:
        """Reachable now? (Blocking; clears the *unavailable* mark on success.)"""
        return True

    def close(self) -> None:  # noqa: B027 - nothing to close for SQLite
        pass

    def migrate(self, component: str, migrations: Sequence[Migration]) -> int:
        """Apply the migrations of ``component`` not yet recorded; the version now in force."""
        versions = [m.version for m in migrations]
        if versions != sorted(set(versions)) or (versions and versions[0] < 1):
            raise ValueError(f"{component}: migrations must be numbered 1, 2, ... in order")
        with self.transaction_for_migration() as tx:
            self._migration_lock(tx)
            ts = "DOUBLE PRECISION" if self.dialect == "postgresql" else "REAL"
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (component TEXT NOT NULL, "
                f"version INTEGER NOT NULL, applied_at {ts} NOT NULL, PRIMARY KEY (component, version))"
            )
            row = tx.execute(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version WHERE component = ?", (component,)
            ).fetchone()
            current = int(row[0])
            for migration in migrations:
                if migration.version <= current:
                    continue
                steps = migration.postgresql if self.dialect == "postgresql" else migration.sqlite
                for step in steps:
                    if isinstance(step, str):
                        tx.execute(step)
                    else:
                        step(tx)
                tx.execute(
                    "INSERT INTO schema_version (component, version, applied_at) VALUES (?, ?, ?)",
                    (component, migration.version, time.time()),
                )
                logger.info("schema %s: %d -> %d (%s)", component, current, migration.version, self.dialect)
                current = migration.version
        return current

    def transaction_for_migration(self) -> AbstractContextManager[Transaction]:
        return self.transaction()


# --- SQLite ----------------------------------------------------------------------------


class _SqliteTx(Transaction):
    dialect: Dialect = "sqlite"

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Rows:
        return self._db.execute(sql, () if params is None else params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)


class SqliteDatabase(Database):
    """One SQLite file. ``keep_open``: one connection shared under a lock, in WAL mode
    (the audit trail: a write per event, cheap enough for the event loop); otherwise a
    short connection per transaction, so the admin CLI can run while the relay is up."""

    dialect: Dialect = "sqlite"
    shared = False

    def __init__(self, path: Path, *, keep_open: bool = False) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        if keep_open:
            self._conn = self._connect()
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL: with WAL a crash can lose the last rows but never corrupt the file.
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self._conn is not None:
            with self._lock:
                yield self._conn
        else:
            with closing(self._connect()) as db:
                yield db

    @contextmanager
    def _begin(self, how: str) -> Iterator[Transaction]:
        with self._connection() as db:
            db.execute(how)
            try:
                yield _SqliteTx(db)
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.IntegrityError) and str(exc).startswith("UNIQUE"):
                    raise DuplicateKey(str(exc)) from exc
                raise
            db.execute("COMMIT")

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self._begin("BEGIN")

    def transaction_for_migration(self) -> AbstractContextManager[Transaction]:
        return self._begin("BEGIN IMMEDIATE")  # the write lock first: one migrator at a time

    def _migration_lock(self, tx: Transaction) -> None:
        pass  # BEGIN IMMEDIATE holds it

    def close(self) -> None:
        if self._conn is not None:
            with self._lock:
                self._conn.close()


# --- PostgreSQL ------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def _pg_params(params: Sequence[Any]) -> Sequence[Any]:
    """PostgreSQL's text cannot hold NUL, SQLite's can: a client-typed NUL becomes U+FFFD
    (a username with one matches no account, as it matches none on SQLite; an audit row
    keeps the rest of its text)."""
    if not any(isinstance(p, str) and "\x00" in p for p in params):
        return params
    return [p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params]


class _PgTx(Transaction):
    dialect: Dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Rows:
        if params is None:  # DDL: sent as written (PL/pgSQL bodies use % themselves)
            return self._conn.execute(sql)  # type: ignore[no-any-return]
        return self._conn.execute(_pg_sql(sql), _pg_params(params))  # type: ignore[no-any-return]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_pg_sql(sql), [_pg_params(row) for row in rows])


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for logs."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return "postgresql://?"
    user, host, port, dbname = (parts.get(k, "") for k in ("user", "host", "port", "dbname"))
    return f"postgresql://{user}@{host}:{port}/{dbname}"


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database, shared by every relay node.

    ``wait_s`` bounds how long a call waits for a pooled connection (and a new
    connection for its handshake). After a connection failure the database is
    *unavailable*: calls fail at once until :meth:`check` succeeds."""

    dialect: Dialect = "postgresql"
    shared = True

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 8, wait_s: float = 0.5) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.name = redact_dsn(dsn)
        self._wait_s = wait_s
        self._down_since: float | None = None
        self._state_lock = threading.Lock()
        self._pool: Any = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=wait_s,
            # A pooled connection may have died with a restarted server: checked on the
            # way out (one round trip), so a restart costs nothing but a reconnect.
            check=ConnectionPool.check_connection,
            kwargs={
                "connect_timeout": max(1, round(wait_s)),
                "application_name": "madoguchi-relay",
                # A network that drops packets (rather than refusing) must not hold a call
                # for the kernel's 15 minutes: unacknowledged data fails after 5 s.
                "tcp_user_timeout": 5000,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 2,
            },
            name="madoguchi",
        )

    def open(self, timeout_s: float = 10.0) -> None:
        """Connect (``min_size`` connections); :class:`DatabaseUnavailable` if it cannot in time."""
        from psycopg_pool import PoolTimeout

        try:
            self._pool.open(wait=True, timeout=timeout_s)
        except PoolTimeout as exc:
            self._pool.close()
            raise DatabaseUnavailable(f"cannot connect to {self.name}") from exc
        logger.info("database %s: closed -> open", self.name)

    @property
    def available(self) -> bool:
        return self._down_since is None

    def _mark_down(self, exc: BaseException) -> None:
        with self._state_lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
                logger.warning("database %s: reachable -> unreachable (%s)", self.name, type(exc).__name__)

    def _is_connection_error(self, exc: BaseException) -> bool:
        from psycopg_pool import PoolTimeout

        if isinstance(exc, PoolTimeout):
            return True
        if not isinstance(exc, self._psycopg.OperationalError):
            return False
        state = exc.sqlstate
        # None: the client lost the connection; 08: connection exception; 57P: admin shutdown.
        return state is None or state.startswith(("08", "57P"))

    @contextmanager
    def _connection(self, *, force: bool = False) -> Iterator[Transaction]:
        if self._down_since is not None and not force:
            raise DatabaseUnavailable(f"{self.name} is unreachable")
        try:
            with self._pool.connection() as conn:
                yield _PgTx(conn)  # the pool commits on the way out, or rolls back on an error
        except self._psycopg.errors.UniqueViolation as exc:
            raise DuplicateKey(str(exc)) from exc
        except Exception as exc:
            if self._is_connection_error(exc):
                self._mark_down(exc)
                raise DatabaseUnavailable(f"{self.name} is unreachable") from exc
            raise

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self._connection()

    def _migration_lock(self, tx: Transaction) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_ADVISORY_KEY,))

    def check(self) -> bool:
        try:
            with self._connection(force=True) as tx:
                tx.execute("SELECT 1")
        except DatabaseUnavailable:
            return False
        with self._state_lock:
            if self._down_since is not None:
                logger.warning(
                    "database %s: unreachable -> reachable after %.1f s",
                    self.name,
                    time.monotonic() - self._down_since,
                )
                self._down_since = None
        return True

    def close(self) -> None:
        self._pool.close()
        logger.info("database %s: open -> closed", self.name)


# --- the relay's storage ---------------------------------------------------------------


@dataclasses.dataclass
class Storage:
    """The databases of one relay: three SQLite files, or one PostgreSQL database three times."""

    accounts: Database
    audit: Database
    settings: Database

    @property
    def shared(self) -> bool:
        return self.accounts.shared

    def all(self) -> list[Database]:
        unique: list[Database] = []
        for db in (self.accounts, self.audit, self.settings):
            if not any(db is seen for seen in unique):
                unique.append(db)
        return unique

    def check(self) -> bool:
        return all([db.check() for db in self.all()])

    def close(self) -> None:
        for db in self.all():
            db.close()


def open_storage(config: RelayConfig) -> Storage:
    """``config.database``: empty for SQLite files in the data directory, else a ``postgresql://`` URL.

    Raises :class:`relay.config.ConfigError` for another URL and :class:`DatabaseUnavailable` if PostgreSQL
    cannot be reached."""
    database = config.database
    if not database:
        return Storage(
            accounts=SqliteDatabase(config.accounts_db),
            audit=SqliteDatabase(config.audit_db, keep_open=True),
            settings=SqliteDatabase(config.settings_db),
        )
    if not database.startswith(("postgresql://", "postgres://")):
        raise ConfigError("database: empty (SQLite in data_dir) or a postgresql:// URL")
    pg = PostgresDatabase(database)
    pg.open()
    return Storage(accounts=pg, audit=pg, settings=pg)
