"""Brute force, capacity, per-operator limits and login limits against a real relay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.server import running_relay
from relay.testing import SignalingClient, fast_config, login

PASSWORD = "correct horse battery"


async def test_brute_force_gets_at_most_the_configured_guesses(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_relay(fast_config(tmp_path, failed_claims_per_operator=5)) as relay:
        relay.add_operator("mallory", PASSWORD, "Mallory", "Evil Corp")
        agents = [await SignalingClient.agent(http, relay) for _ in range(3)]
        codes = set()
        for agent in agents:
            registered = await agent.register()
            assert isinstance(registered, p.Registered)
            codes.add(registered.code)
        token = await login(http, relay, "mallory", PASSWORD)
        # two sockets of the same operator, firing guesses as fast as they can
        sockets = [await SignalingClient.operator(http, relay, token) for _ in range(2)]
        guesses = [f"{i:04d}" for i in range(10_000) if f"{i:04d}" not in codes][:200]
        for i, guess in enumerate(guesses):
            await sockets[i % 2].send(p.Claim(code=guess))
        for code in codes:  # the real codes, too late
            await sockets[0].send(p.Claim(code=code))
        # one answer per guess, plus one "you are now locked out" notice
        expected = len(guesses) + len(codes) + 1
        replies: list[p.ErrorCode] = []

        done = asyncio.Event()

        async def drain(ws: SignalingClient) -> None:
            while True:
                replies.append((await ws.expect(p.Error)).code)
                if len(replies) >= expected:
                    done.set()

        tasks = [asyncio.create_task(drain(ws)) for ws in sockets]
        await asyncio.wait_for(done.wait(), 5)
        await asyncio.sleep(0.1)  # nothing more may arrive
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert len(replies) == expected
        assert replies.count(p.ErrorCode.UNKNOWN_CODE) == 5
        assert set(replies) == {p.ErrorCode.UNKNOWN_CODE, p.ErrorCode.LOCKED_OUT}
        assert len(relay.audit_rows("claim_failed")) == 5
        lockouts = relay.audit_rows("lockout")
        assert len(lockouts) == 1
        assert lockouts[0].operator == "mallory"
        assert relay.audit_rows("claim_succeeded") == []
        for agent in agents:  # no customer was ever asked
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(agent.ws.receive(), 0.05)
        async with http.get(f"{relay.url}/metrics") as response:
            metrics = await response.text()
        assert 'madoguchi_claims_failed_total{reason="unknown_code"} 5.0' in metrics
        assert "madoguchi_lockouts_total 1.0" in metrics


async def test_capacity_refusal_and_recovery(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    config = fast_config(tmp_path, max_live_codes=2, max_sessions=1, busy_retry_after_s=7)
    async with running_relay(config) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        first = await SignalingClient.agent(http, relay)
        r1 = await first.register()
        second = await SignalingClient.agent(http, relay)
        await second.register()
        third = await SignalingClient.agent(http, relay)
        busy = await third.register()
        assert isinstance(busy, p.Error)
        assert busy.code is p.ErrorCode.BUSY
        assert busy.retry_after_s == 7.0
        assert busy.fatal
        assert (await third.closed())[0] == 1013
        # one session uses the only session slot: registrations stay refused
        assert isinstance(r1, p.Registered)
        op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
        await op.send(p.Claim(code=r1.code))
        await op.expect(p.ClaimPending)
        await first.expect(p.OperatorRequest)
        await first.send(p.Decision(allowed=True))
        await first.expect(p.SessionStart)
        await op.expect(p.SessionStart)
        await second.send(p.Bye())
        await second.expect(p.Ended)
        fourth = await SignalingClient.agent(http, relay)
        assert isinstance(await fourth.register(), p.Error)
        # the session ends: capacity is back
        await op.send(p.Bye())
        await op.expect(p.Ended)
        fifth = await SignalingClient.agent(http, relay)
        assert isinstance(await fifth.register(), p.Registered)
        refused = relay.audit_rows("registration_refused")
        assert [r.detail["reason"] for r in refused] == ["busy", "busy"]
        async with http.get(f"{relay.url}/metrics") as response:
            metrics = await response.text()
        assert 'madoguchi_registrations_refused_total{reason="busy"} 2.0' in metrics
        for client in (fourth, fifth, op):
            await client.close()


async def test_operator_session_limit(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running_relay(fast_config(tmp_path, max_sessions_per_operator=1)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        token = await login(http, relay, "hanako", PASSWORD)
        a1, a2 = SignalingClient.agent(http, relay), SignalingClient.agent(http, relay)
        agent1, agent2 = await a1, await a2
        r1, r2 = await agent1.register(), await agent2.register()
        assert isinstance(r1, p.Registered)
        assert isinstance(r2, p.Registered)
        op1 = await SignalingClient.operator(http, relay, token)
        op2 = await SignalingClient.operator(http, relay, token)
        await op1.send(p.Claim(code=r1.code))
        await op1.expect(p.ClaimPending)
        await op2.send(p.Claim(code=r2.code))
        error = await op2.expect(p.Error)
        assert error.code is p.ErrorCode.OPERATOR_SESSION_LIMIT
        assert not error.fatal
        await op1.send(p.Bye())
        await op1.expect(p.Ended)
        await op2.send(p.Claim(code=r2.code))
        await op2.expect(p.ClaimPending)


async def test_login_is_rate_limited(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running_relay(fast_config(tmp_path, login_failures_per_user=3)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        url = f"{relay.url}/api/login"
        for _ in range(3):
            async with http.post(url, json={"username": "hanako", "password": "guess-guess"}) as r:
                assert r.status == 401
                assert (await r.json())["error"] == "invalid_credentials"
        async with http.post(url, json={"username": "hanako", "password": PASSWORD}) as r:
            assert r.status == 429
            body = await r.json()
            assert body["error"] == "rate_limited"
            assert int(r.headers["Retry-After"]) > 0
        failed = relay.audit_rows("login_failed")
        assert [row.detail["reason"] for row in failed] == ["invalid_credentials"] * 3 + ["rate_limited"]
        assert all(PASSWORD not in repr(row) and "guess-guess" not in repr(row) for row in failed)
