"""Relay nodes sharing one PostgreSQL (a throw-away cluster), and PostgreSQL going away.

Two relays on one database: an operator added on one logs in on the other, an admin
logged in on one is logged in on the other, a setting changed on one is in force on
the other, and both write one audit trail. Then PostgreSQL stops in the middle of a
session: logins are refused clearly (503), the session carries on, the operator on
that node may still claim, and the audit rows wait in the node's spool until
PostgreSQL is back, then land in order.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import protocol as p
from madoguchi.cli import main
from operator_console.client import LoginFailed, request_token
from relay.accounts import Accounts
from relay.audit import AuditLog
from relay.database import PostgresDatabase
from relay.effects import Audit
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config, login
from testbed.postgres import RunningPostgres, running_postgres

from .relay_session import PASSWORD, check_exchange, in_session


@pytest.fixture(scope="module")
def cluster() -> Iterator[RunningPostgres]:
    with running_postgres() as pg:
        yield pg


@pytest.fixture
def dsn(cluster: RunningPostgres) -> str:
    return cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


async def status_of_login(
    http: aiohttp.ClientSession, relay: RunningRelay, password: str
) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{relay.url}/api/login", json={"username": "hanako", "password": password}) as r:
        return r.status, await r.json()


async def admin_login(http: aiohttp.ClientSession, form_node: RunningRelay, post_node: RunningRelay) -> str:
    """Open the login page on one node, send the form to the other; the session cookie."""
    async with http.get(f"{form_node.url}/admin/login") as r:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text())
        cookie = r.cookies["madoguchi_admin"].value
    assert csrf is not None
    form = {"csrf": csrf.group(1), "username": "boss", "password": PASSWORD}
    async with http.post(
        f"{post_node.url}/admin/login", data=form, cookies={"madoguchi_admin": cookie}, allow_redirects=False
    ) as r:
        assert r.status == 303, await r.text()
        return r.cookies["madoguchi_admin"].value


async def test_two_nodes_share_accounts_admin_sessions_settings_and_one_trail(
    tmp_path: Path, dsn: str, http: aiohttp.ClientSession
) -> None:
    async with (
        running_relay(fast_config(tmp_path / "a", database=dsn)) as a,
        running_relay(fast_config(tmp_path / "b", database=dsn)) as b,
    ):
        a.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        a.accounts.add("boss", PASSWORD, "Boss", "ACME", role="admin")
        status, _ = await status_of_login(http, b, PASSWORD)
        assert status == 200

        cookie = await admin_login(http, a, b)  # no stickiness: the form on a, the login on b
        async with http.get(
            f"{a.url}/admin", cookies={"madoguchi_admin": cookie}, allow_redirects=False
        ) as r:
            assert r.status == 200

        a.state.settings.change({"terms_ja": "新しい同意事項です。", "max_sessions": 3}, "boss", time.time())

        async def terms_on_b() -> str:
            async with http.get(f"{b.url}/api/terms?lang=ja") as r:
                return str((await r.json())["text"])

        await eventually(lambda: b.state.registry._limits.max_sessions == 3)
        assert await terms_on_b() == "新しい同意事項です。"

        agent = await SignalingClient.agent(http, a)
        assert isinstance(await agent.register(), p.Registered)
        assert a.audit.flush()  # its writer thread has written the row
        trail = b.audit.rows()
        assert [r.event for r in trail if r.event in ("login_succeeded", "admin_login", "code_issued")] == [
            "login_succeeded",
            "admin_login",
            "code_issued",
        ]
        assert a.audit.rows() == trail
        await agent.close()


async def test_an_operator_disabled_through_one_node_is_cut_off_on_the_other(
    tmp_path: Path, dsn: str, http: aiohttp.ClientSession
) -> None:
    async with (
        running_relay(fast_config(tmp_path / "a", database=dsn)) as a,
        running_relay(fast_config(tmp_path / "b", database=dsn, account_check_interval_s=0.2)) as b,
    ):
        b.state.auth.refresh_accounts()  # b's copy of the flags, before hanako exists
        a.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        assert b.state.auth.active("hanako")  # looked up, not taken for gone
        agent, op, _ = await in_session(http, b)
        a.accounts.set_disabled("hanako", True)  # the admin web or CLI, through node a
        assert (await agent.expect(p.Ended)).reason is p.EndReason.ADMIN
        assert (await op.expect(p.Ended)).reason is p.EndReason.ADMIN
        assert (await op.expect(p.Error)).code is p.ErrorCode.NOT_AUTHORISED
        for client in (agent, op):
            await client.close()


async def test_postgresql_down_mid_session(
    tmp_path: Path, cluster: RunningPostgres, dsn: str, http: aiohttp.ClientSession
) -> None:
    config = fast_config(tmp_path, database=dsn, account_check_interval_s=0.2)
    async with running_relay(config) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        agent, op, _ = await in_session(http, relay)
        unseen = await login(http, relay, "hanako", PASSWORD)  # never shown to this node's registry
        before = len(relay.audit.rows())
        cluster.stop()
        try:
            status, body = await status_of_login(http, relay, PASSWORD)
            assert status == 503
            assert body["error"] == "unavailable"
            assert "try again" in body["message"]
            with pytest.raises(LoginFailed) as failed:  # what the operator console makes of it
                await request_token(http, relay.url, "hanako", PASSWORD)
            assert failed.value.kind == "unavailable"
            async with http.get(f"{relay.url}/admin/login") as r:  # the admin web says why
                assert r.status == 503
                assert "database is unreachable" in await r.text()
            await asyncio.sleep(0.5)  # account checks run meanwhile: the session is not ended
            await check_exchange(agent, op, "during the outage")
            await op.send(p.Bye(reason=p.EndReason.NORMAL))
            await agent.expect(p.Ended)
            await op.expect(p.Ended)
            # the operator on this node may take the next customer (its token is known here)
            agent2 = await SignalingClient.agent(http, relay)
            second = await agent2.register()
            assert isinstance(second, p.Registered)
            await op.send(p.Claim(code=second.code))
            await op.expect(p.ClaimPending)
            # a token this node cannot check now: refused, to try again shortly (not "log in again")
            late = await SignalingClient.connect(http, relay, "operator")
            await late.send(p.Auth(protocol_version=p.PROTOCOL_VERSION, token=unseen))
            error = await late.expect(p.Error)
            assert error.code is p.ErrorCode.UNAVAILABLE
            assert "cannot check logins" in error.message
            assert (await late.closed())[0] == 1013
            assert relay.audit.flush()
            assert relay.audit.spooled >= 4  # login_failed, session_ended, code_issued, claim_succeeded
            async with http.get(f"{relay.url}/metrics") as r:
                metrics = await r.text()
            assert "madoguchi_database_up 0.0" in metrics
            assert f"madoguchi_audit_spooled {float(relay.audit.spooled)}" in metrics
        finally:
            cluster.start()
        await eventually(lambda: relay.audit.spooled == 0)
        landed = [r.event for r in relay.audit.rows()[before:]]
        assert landed[:1] == ["login_failed"]
        assert landed.index("session_ended") < landed.index("code_issued") < landed.index("claim_succeeded")
        assert relay.audit.rows(event="login_failed")[0].detail["reason"] == "unavailable"
        status, _ = await status_of_login(http, relay, PASSWORD)
        assert status == 200
        for client in (agent, op, agent2):
            await client.close()


def test_the_admin_cli_works_on_the_relays_postgresql(
    tmp_path: Path, dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "relay.toml"
    toml.write_text(f'data_dir = "{tmp_path}"\ndatabase = "{dsn}"\n', encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["add-operator", "hanako", "--display-name", "佐藤 花子", "--org", "ACME", "--password-stdin"]
    assert main(["admin", "--config", str(toml), *args]) == 0
    assert main(["admin", "--config", str(toml), "audit", "--event", "operator_added"]) == 0
    out = capsys.readouterr().out
    assert '"operator": "hanako"' in out
    assert not (tmp_path / "accounts.sqlite3").exists()  # nothing went to SQLite
    database = PostgresDatabase(dsn)
    database.open()
    try:
        assert Accounts(database).check_password("hanako", PASSWORD) is not None
    finally:
        database.close()


def test_a_spool_left_by_a_stopped_node_is_written_when_it_starts_again(
    tmp_path: Path, cluster: RunningPostgres, dsn: str
) -> None:
    spool = tmp_path / "audit-spool.jsonl"
    database = PostgresDatabase(dsn)
    database.open()
    log = AuditLog(database, spool=spool)
    cluster.stop()
    try:
        for i in range(3):
            log.write(Audit("code_issued", code=f"{i:04d}"), 100.0 + i)
        log.close()  # the node stops during the outage: its rows stay on disk
        database.close()
    finally:
        cluster.start()
    assert len(spool.read_text(encoding="utf-8").splitlines()) == 3
    database = PostgresDatabase(dsn)
    database.open()
    try:
        restarted = AuditLog(database, spool=spool)
        assert restarted.spooled == 3
        assert restarted.replay() == 3
        assert [(r.code, r.ts) for r in restarted.rows()] == [
            ("0000", 100.0),
            ("0001", 101.0),
            ("0002", 102.0),
        ]
        assert restarted.spooled == 0
        restarted.close()
    finally:
        database.close()
