"""Accounts (scrypt), the append-only audit log, the memory store and login limits."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from relay.accounts import AccountError, Accounts, hash_password, verify_password
from relay.audit import AuditLog
from relay.auth import Auth, LoginRefused
from relay.config import load_config
from relay.effects import Audit
from relay.store import MemoryStore, Pairing, digest


def test_password_hashes_are_salted_and_verify() -> None:
    a = hash_password("correct horse")
    b = hash_password("correct horse")
    assert a != b
    assert a.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", a)
    assert not verify_password("correct hors", a)
    assert not verify_password("x", "garbage")


def test_accounts(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "a.sqlite3")
    account = accounts.add("hanako", "password1", " 佐藤 花子 ", "ACME")
    assert account.display_name == "佐藤 花子"
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("hanako", "password1", "x", "y")
    with pytest.raises(AccountError, match="at least 8"):
        accounts.add("taro", "short", "x", "y")
    with pytest.raises(AccountError, match="username"):
        accounts.add("bad name", "password1", "x", "y")
    with pytest.raises(AccountError, match="display name"):
        accounts.add("taro", "password1", "   ", "y")
    assert accounts.check_password("hanako", "password1") == accounts.get("hanako")
    assert accounts.check_password("hanako", "wrong-password") is None
    assert accounts.check_password("nobody", "password1") is None
    accounts.set_disabled("hanako", True)
    assert accounts.get("hanako").disabled  # type: ignore[union-attr]
    accounts.set_password("hanako", "password2")
    assert accounts.check_password("hanako", "password2") is not None
    with pytest.raises(AccountError, match="no operator"):
        accounts.set_disabled("nobody", True)
    assert [a.username for a in accounts.list()] == ["hanako"]
    raw = (tmp_path / "a.sqlite3").read_bytes()
    assert b"password2" not in raw


def test_audit_is_append_only(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    log.write(Audit("code_issued", ip="10.0.0.1", code="1234", detail={"by": "agent"}), 100.0)
    log.write(Audit("claim_failed", operator="hanako", detail={"reason": "unknown_code"}), 200.0)
    rows = log.rows()
    assert [r.event for r in rows] == ["code_issued", "claim_failed"]
    assert rows[0].detail == {"by": "agent"}
    assert rows[0].time.startswith("1970-01-01T00:01:40")
    assert [r.event for r in log.rows(since=150.0)] == ["claim_failed"]
    assert [r.event for r in log.rows(event="code_issued")] == ["code_issued"]
    log.close()
    db = sqlite3.connect(tmp_path / "audit.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET event = 'x'")
    db.close()


def test_memory_store_indexes_and_windows() -> None:
    store = MemoryStore()
    pairing = Pairing(
        id="p1",
        code="1234",
        issued_by="agent",
        phase="waiting",
        created_at=0,
        code_expires_at=10,
        resume_hash="h",
    )
    store.put_pairing(pairing)
    assert store.pairing_by_code("1234") == pairing
    assert store.pairing_by_resume("h") == pairing
    store.remove_pairing("p1")
    assert store.pairing_by_code("1234") is None
    assert store.pairing_by_resume("h") is None
    assert store.live_codes() == set()
    store.retire_code("1234", "used", until=50)
    assert store.retired_code("1234", 49) == "used"
    assert store.retired_code("1234", 50) is None
    assert store.add_event("k", 0, 10) == 1
    assert store.add_event("k", 5, 10) == 2
    assert store.count_events("k", 10.5, 10) == 1
    assert store.oldest_event("k", 10.5, 10) == 5
    store.set_lock("l", 20)
    assert store.lock_until("l", 19) == 20
    assert store.lock_until("l", 20) is None
    store.prune(100)
    assert store.count_events("k", 100, 10) == 0


async def test_login_limits_and_tokens(tmp_path: Path) -> None:
    config = load_config(
        env={}, data_dir=tmp_path, login_failures_per_user=2, login_user_window_s=900, token_ttl_s=100
    )
    store = MemoryStore()
    accounts = Accounts(config.accounts_db)
    accounts.add("hanako", "password1", "佐藤 花子", "ACME")
    auth = Auth(config, store, accounts)
    for _ in range(2):
        with pytest.raises(LoginRefused) as refused:
            await auth.login("hanako", "nope-nope", "10.0.0.1", 0.0)
        assert refused.value.status == 401
    # the right password no longer helps: the guesser is cut off before checking
    with pytest.raises(LoginRefused) as refused:
        await auth.login("hanako", "password1", "10.0.0.1", 1.0)
    assert refused.value.status == 429
    assert refused.value.retry_after_s == pytest.approx(899.0)
    result, audit = await auth.login("hanako", "password1", "10.0.0.1", 901.0)
    assert audit.event == "login_succeeded"
    assert result.token not in repr(result)
    record = auth.verify(result.token, 950.0)
    assert record is not None
    assert record.display_name == "佐藤 花子"
    assert auth.verify(result.token, 1002.0) is None  # expired
    assert auth.verify("forged", 950.0) is None
    accounts.set_disabled("hanako", True)
    assert accounts.drop_tokens("hanako") == 0  # disabling dropped them
    assert auth.verify(result.token, 950.0) is None
    with pytest.raises(LoginRefused) as refused:
        await auth.login("hanako", "password1", "10.0.0.2", 960.0)
    assert (refused.value.status, refused.value.error) == (403, "locked")
    await asyncio.sleep(0)


async def test_tokens_outlive_a_restart_and_end_with_the_password(tmp_path: Path) -> None:
    """A relay restarted on the same data directory (a new store, new Accounts) knows the tokens."""
    config = load_config(env={}, data_dir=tmp_path, token_ttl_s=100)
    accounts = Accounts(config.accounts_db)
    accounts.add("hanako", "password1", "佐藤 花子", "ACME")
    accounts.add("taro", "password2", "鈴木 太郎", "ACME")
    first = Auth(config, MemoryStore(), accounts)
    old, _ = await first.login("hanako", "password1", "10.0.0.1", -200.0)  # expired at -100
    hanako, _ = await first.login("hanako", "password1", "10.0.0.1", 0.0)
    taro, _ = await first.login("taro", "password2", "10.0.0.1", 0.0)

    restarted = Auth(config, MemoryStore(), Accounts(config.accounts_db))
    record = restarted.verify(hanako.token, 50.0)
    assert record is not None
    assert (record.username, record.display_name, record.expires_at) == ("hanako", "佐藤 花子", 100.0)
    assert restarted.verify(hanako.token, 100.0) is None  # expired is expired, restart or not
    assert restarted.verify(old.token, 50.0) is None
    raw = config.accounts_db.read_bytes()
    assert hanako.token.encode() not in raw  # only digests on disk
    assert digest(hanako.token).encode() in raw
    with closing(sqlite3.connect(config.accounts_db)) as db:
        stored = {row[0] for row in db.execute("SELECT token_hash FROM tokens")}
    assert stored == {digest(hanako.token), digest(taro.token)}  # the expired one went at the next login

    restarted.accounts.set_password("hanako", "a new password")
    assert restarted.verify(hanako.token, 50.0) is None
    assert restarted.verify(taro.token, 50.0) is not None  # the others keep theirs


def test_audit_rows_survive_any_text(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    log.write(Audit("claim_failed", operator="op\ud800", code="1\udfff", detail={"why": "x\udc80y"}), 1000.0)
    (row,) = log.rows()
    assert row.operator == "op\\ud800"
    assert row.code == "1\\udfff"
    assert row.detail == {"why": "x\udc80y"}  # JSON escapes: the same text back
    log.close()


def test_a_reserved_event_can_be_taken_back() -> None:
    store = MemoryStore()
    store.add_event("k", 1.0, 10)
    store.add_event("k", 2.0, 10)
    store.discard_event("k", 2.0)
    assert store.count_events("k", 3.0, 10) == 1
    store.discard_event("k", 2.0)  # twice, or after pruning: nothing happens
    store.discard_event("missing", 2.0)
    assert store.count_events("k", 3.0, 10) == 1


async def test_parallel_logins_reserve_their_place_before_the_password_is_checked(tmp_path: Path) -> None:
    config = load_config(env={}, data_dir=tmp_path, login_failures_per_user_ip=3)
    accounts = Accounts(config.accounts_db)
    accounts.add("hanako", "password1", "佐藤 花子", "ACME")
    auth = Auth(config, MemoryStore(), accounts)
    results = await asyncio.gather(
        *(auth.login("hanako", f"wrong {i}", "10.0.0.1", 5.0) for i in range(20)), return_exceptions=True
    )
    statuses = sorted(r.status for r in results if isinstance(r, LoginRefused))
    assert statuses == [401] * 3 + [429] * 17
