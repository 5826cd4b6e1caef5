"""The storage contract, on SQLite and on a real PostgreSQL (a throw-away cluster).

Every case runs on both engines: accounts and tokens, the append-only audit trail,
settings with their history, the shared admin sessions, and the migrations (fresh, an
existing database, several nodes starting at once).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from relay.accounts import AccountError, Accounts
from relay.audit import AuditLog
from relay.config import ConfigError, RelayConfig, load_config
from relay.database import Database, Migration, PostgresDatabase, SqliteDatabase, open_storage
from relay.effects import Audit
from relay.settings import Settings
from relay.shared_admin_sessions import SharedAdminSessions
from testbed.postgres import RunningPostgres, running_postgres

PASSWORD = "correct horse battery"

MakeDb = Callable[[str], Database]


@pytest.fixture(scope="module")
def cluster() -> Iterator[RunningPostgres]:
    with running_postgres() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def make_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeDb]:
    """``make_db(name)``: a database; the same name twice is the same database (two nodes)."""
    opened: list[Database] = []
    dsns: dict[str, str] = {}

    def make(name: str) -> Database:
        db: Database
        if request.param == "sqlite":
            db = SqliteDatabase(tmp_path / f"{name}.sqlite3")
        else:
            cluster: RunningPostgres = request.getfixturevalue("cluster")
            if name not in dsns:
                dsns[name] = cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")
            pg = PostgresDatabase(dsns[name])
            pg.open()
            db = pg
        opened.append(db)
        return db

    yield make
    for db in opened:
        db.close()


def test_accounts_and_tokens(make_db: MakeDb) -> None:
    accounts = Accounts(make_db("main"))
    accounts.add("hanako", PASSWORD, "佐藤 花子", "ACME")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("hanako", PASSWORD, "someone", "ACME")
    assert accounts.check_password("hanako", "wrong password") is None
    account = accounts.check_password("hanako", PASSWORD)
    assert account is not None
    assert account.display_name == "佐藤 花子"
    assert account.role == "operator"
    accounts.add_token("d1", "hanako", 200.0, 100.0)
    owner = accounts.token_owner("d1", 150.0)
    assert owner is not None
    assert owner[0].username == "hanako"
    assert owner[1] == 200.0
    assert accounts.token_owner("d1", 250.0) is None  # expired
    accounts.touch_login("hanako", 123.5)
    assert accounts.list("operator")[0].last_login == 123.5
    accounts.set_disabled("hanako", True)  # drops the tokens
    assert accounts.token_owner("d1", 150.0) is None
    assert accounts.get("hanako") is not None
    assert accounts.get("hanako").disabled  # type: ignore[union-attr]


def test_the_audit_trail_is_append_only(make_db: MakeDb) -> None:
    db = make_db("main")
    audit = AuditLog(db)
    audit.write(Audit("login_succeeded", operator="hanako", ip="127.0.0.1", detail={"名前": "花子"}), 10.0)
    audit.write(Audit("claim_failed", operator="taro", code="1234"), 20.0)
    assert [r.event for r in audit.rows()] == ["login_succeeded", "claim_failed"]
    assert [r.event for r in audit.rows(operator="taro")] == ["claim_failed"]
    assert audit.rows(since=15.0)[0].code == "1234"
    assert audit.rows(newest=1)[0].event == "claim_failed"
    assert audit.rows()[0].detail == {"名前": "花子"}
    for sql in ("UPDATE audit SET event = 'x'", "DELETE FROM audit"):
        with (
            pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"),
            db.transaction() as tx,
        ):
            tx.execute(sql)
    if isinstance(db, PostgresDatabase):
        with pytest.raises(psycopg.Error, match="append-only"), db.transaction() as tx:
            tx.execute("TRUNCATE audit")
    assert len(audit.rows()) == 2


def test_a_nul_typed_by_a_client_is_stored_and_matches_no_account(make_db: MakeDb) -> None:
    db = make_db("main")
    accounts = Accounts(db)
    accounts.add("hanako", PASSWORD, "花子", "ACME")
    assert accounts.check_password("hanako\x00", PASSWORD) is None
    audit = AuditLog(db)
    audit.write(Audit("login_failed", operator="hanako\x00x", detail={"why": "a\x00b"}), 1.0)
    (row,) = audit.rows()
    assert row.operator is not None
    assert row.operator.startswith("hanako")
    assert row.detail["why"].startswith("a")


def test_a_new_migration_is_applied_to_an_existing_database(make_db: MakeDb) -> None:
    real = "DOUBLE PRECISION" if make_db("main").dialect == "postgresql" else "REAL"
    first = Migration(
        1, sqlite=("CREATE TABLE notes (n REAL)",), postgresql=(f"CREATE TABLE notes (n {real})",)
    )
    second = Migration(
        2,
        sqlite=("ALTER TABLE notes ADD COLUMN who TEXT",),
        postgresql=("ALTER TABLE notes ADD COLUMN who TEXT",),
    )
    db = make_db("main")
    assert db.migrate("notes", [first]) == 1
    with db.transaction() as tx:
        tx.execute("INSERT INTO notes (n) VALUES (?)", (1.5,))
    assert make_db("main").migrate("notes", [first, second]) == 2  # the next release starts
    assert make_db("main").migrate("notes", [first, second]) == 2  # and again: nothing to do
    with db.transaction() as tx:
        assert [tuple(r) for r in tx.execute("SELECT n, who FROM notes", ()).fetchall()] == [(1.5, None)]


def test_settings_changed_on_one_node_are_seen_on_the_other(make_db: MakeDb) -> None:
    config = RelayConfig()
    one, two = Settings(make_db("main"), config), Settings(make_db("main"), config)
    assert one.change({"max_sessions": 7, "terms_en": "New terms."}, "boss", 50.0) == {
        "max_sessions": "7",
        "terms_en": "New terms.",
    }
    assert one.limits().max_sessions == 7
    assert two.limits().max_sessions == config.limits.max_sessions  # until it looks
    assert two.refresh() is True
    assert two.limits().max_sessions == 7
    assert two.terms("en") == "New terms."
    assert two.refresh() is False
    two.change({"max_sessions": 9}, "other", 60.0)
    one.refresh()
    assert one.limits().max_sessions == 9
    assert [c.admin for c in one.history()] == ["other", "boss", "boss"]
    refused = pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only")
    with refused, one.database.transaction() as tx:
        tx.execute("DELETE FROM settings_history")


def test_admin_sessions_are_shared_with_digests_only(make_db: MakeDb) -> None:
    one = SharedAdminSessions(make_db("main"), idle_timeout_s=60.0)
    two = SharedAdminSessions(make_db("main"), idle_timeout_s=60.0)
    cookie, session = one.start(100.0, lang="ja", username="boss")
    seen = two.get(cookie, 130.0)  # another node
    assert seen is not None
    assert (seen.username, seen.csrf) == ("boss", session.csrf)
    seen.lang = "en"  # the admin picked English on node two
    again = one.get(cookie, 180.0)  # idle clock restarted at 130 on node two
    assert again is not None
    assert again.lang == "en"
    with one.database.transaction() as tx:
        stored = " ".join(
            str(v) for row in tx.execute("SELECT * FROM admin_sessions", ()).fetchall() for v in row
        )
    assert cookie not in stored  # only its digest
    assert two.get(cookie, 240.0) is None  # idle for 60 s
    assert len(one) == 0
    _, anonymous = one.start(300.0)
    cookie2, _ = one.start(300.0, username="boss")
    assert two.end_user("boss") == 1
    assert one.get(cookie2, 301.0) is None
    assert anonymous.username is None
    assert len(two) == 1
    two.prune(400.0)
    assert len(one) == 0


def test_migrations_run_once_and_are_recorded(make_db: MakeDb) -> None:
    db = make_db("main")
    Accounts(db).add("hanako", PASSWORD, "花子", "ACME")
    AuditLog(db)
    Settings(db, RelayConfig())
    again = make_db("main")  # a restart, or a second node: nothing to do, nothing lost
    assert Accounts(again).get("hanako") is not None
    with again.transaction() as tx:
        rows = tx.execute("SELECT component, version FROM schema_version ORDER BY component", ()).fetchall()
    assert [tuple(r) for r in rows] == [("accounts", 1), ("audit", 1), ("settings", 1)]


def test_nodes_starting_at_once_migrate_once(cluster: RunningPostgres) -> None:
    dsn = cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")
    databases = [PostgresDatabase(dsn) for _ in range(4)]
    errors: list[BaseException] = []

    def start(db: PostgresDatabase) -> None:
        try:
            db.open()
            Accounts(db)
            AuditLog(db)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(db,)) for db in databases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == []
        with databases[0].transaction() as tx:
            rows = tx.execute(
                "SELECT component, COUNT(*) FROM schema_version GROUP BY component", ()
            ).fetchall()
        assert sorted(tuple(r) for r in rows) == [("accounts", 1), ("audit", 1)]
    finally:
        for db in databases:
            db.close()


def test_an_sqlite_file_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "accounts.sqlite3"
    with sqlite3.connect(path) as old:  # the first schema: no role, no last_login, no schema_version
        old.execute(
            "CREATE TABLE operators (username TEXT PRIMARY KEY, display_name TEXT NOT NULL, "
            "organisation TEXT NOT NULL, password_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, "
            "created_at REAL NOT NULL)"
        )
        old.execute("INSERT INTO operators VALUES ('hanako', '花子', 'ACME', 'x', 0, 1.0)")
    old.close()
    accounts = Accounts(path)
    account = accounts.get("hanako")
    assert account is not None
    assert (account.role, account.last_login) == ("operator", None)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT component, version FROM schema_version").fetchall() == [("accounts", 1)]
    db.close()


def test_a_database_url_that_is_not_postgresql_is_a_configuration_error(tmp_path: Path) -> None:
    config = load_config(env={}, data_dir=tmp_path, database="mysql://relay@db/madoguchi")
    with pytest.raises(ConfigError, match="postgresql://"):
        open_storage(config)
    assert "mysql" not in repr(config)  # the URL may carry a password: never in a repr


_KILLED_WRITER = """
import sys, threading
from pathlib import Path
from relay.audit import AuditLog
from relay.database import PostgresDatabase
from relay.effects import Audit

db = PostgresDatabase(sys.argv[1])
db.open()
log = AuditLog(db, spool=Path(sys.argv[2]))
log._store = lambda rows: threading.Event().wait()  # the writer never gets to write
for i in range(3):
    log.write(Audit(f"event_{i}", operator="hanako"), 100.0 + i)
print("written", flush=True)
threading.Event().wait()
"""


def test_rows_queued_when_a_node_is_killed_are_written_by_the_next_start(
    cluster: RunningPostgres, tmp_path: Path
) -> None:
    """kill -9 with rows still queued for the writer thread: the journal keeps them."""
    dsn = cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")
    spool = tmp_path / "audit-spool.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, dsn, str(spool)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "written"
    finally:
        child.kill()  # SIGKILL: no chance to write anything
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    db = PostgresDatabase(dsn)
    db.open()
    try:
        restarted = AuditLog(db, spool=spool)
        assert restarted.spooled == 3  # moved from the journal to the spool
        assert restarted.replay() == 3
        assert [r.event for r in restarted.rows()] == ["event_0", "event_1", "event_2"]
        restarted.write(Audit("event_3"), 110.0)
        restarted.close()
        assert [r.event for r in AuditLog(db).rows()][-1] == "event_3"
        assert spool.with_suffix(".journal").read_text(encoding="utf-8") == ""  # caught up: emptied
    finally:
        db.close()
