"""Wrong, expired and reused codes, claims without login, typo distance: real relay, real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config, login

PASSWORD = "correct horse battery"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    config = fast_config(
        tmp_path, code_ttl_s=0.6, registrations_per_ip=200, max_live_codes=250, max_live_codes_per_ip=250
    )
    async with running_relay(config) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


async def operator(http: aiohttp.ClientSession, relay: RunningRelay) -> SignalingClient:
    return await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))


async def test_wrong_code(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    op = await operator(http, relay)
    wrong = "0000" if registered.code != "0000" else "0001"
    await op.send(p.Claim(code=wrong))
    error = await op.expect(p.Error)
    assert error.code is p.ErrorCode.UNKNOWN_CODE
    assert not error.fatal
    # the connection stays usable and the right code still works
    await op.send(p.Claim(code=registered.code))
    await op.expect(p.ClaimPending)
    await agent.expect(p.OperatorRequest)
    failed = relay.audit_rows("claim_failed")
    assert len(failed) == 1
    assert failed[0].operator == "hanako"
    assert failed[0].ip == "127.0.0.1"
    assert failed[0].detail["reason"] == "unknown_code"


async def test_expired_code(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    error = await agent.expect(p.Error)  # after code_ttl_s
    assert error.code is p.ErrorCode.EXPIRED_CODE
    assert error.fatal
    code, _ = await agent.closed()
    assert code == 1000
    op = await operator(http, relay)
    await op.send(p.Claim(code=registered.code))
    assert (await op.expect(p.Error)).code is p.ErrorCode.EXPIRED_CODE
    assert [r.code for r in relay.audit_rows("code_expired")] == [registered.code]
    assert relay.audit_rows("claim_failed")[0].detail["reason"] == "expired_code"


async def test_reused_code(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    first = await operator(http, relay)
    await first.send(p.Claim(code=registered.code))
    await first.expect(p.ClaimPending)
    second = await operator(http, relay)
    await second.send(p.Claim(code=registered.code))
    assert (await second.expect(p.Error)).code is p.ErrorCode.CODE_ALREADY_USED
    await agent.expect(p.OperatorRequest)
    await agent.send(p.Decision(allowed=True))
    await agent.expect(p.SessionStart)
    await agent.send(p.Bye())
    await first.expect(p.SessionStart)
    await first.expect(p.Ended)
    # after the session the code stays used, for everyone
    await first.send(p.Claim(code=registered.code))
    assert (await first.expect(p.Error)).code is p.ErrorCode.CODE_ALREADY_USED
    reasons = [r.detail["reason"] for r in relay.audit_rows("claim_failed")]
    assert reasons == ["code_already_used", "code_already_used"]


async def test_claim_without_login_is_refused(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    op = await SignalingClient.connect(http, relay, "operator")
    await op.send(p.Claim(code=registered.code))
    error = await op.expect(p.Error)
    assert error.code is p.ErrorCode.NOT_AUTHORISED
    assert error.fatal
    code, _ = await op.closed()
    assert code == 1008
    forged = await SignalingClient.connect(http, relay, "operator")
    await forged.send(p.Auth(protocol_version=p.PROTOCOL_VERSION, token="forged-token"))
    assert (await forged.expect(p.Error)).code is p.ErrorCode.NOT_AUTHORISED
    assert len(relay.audit_rows("operator_auth_failed")) == 1
    # the customer never heard of it
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(agent.ws.receive(), 0.2)


async def test_live_codes_are_unique_and_typo_safe(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    # Codes stay live; all 60 agents come from 127.0.0.1.
    config = fast_config(tmp_path, registrations_per_ip=200, max_live_codes=250, max_live_codes_per_ip=250)
    async with running_relay(config) as relay:
        await _register_many(relay, http)


async def _register_many(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async def one() -> str:
        agent = await SignalingClient.agent(http, relay)
        registered = await agent.register()
        assert isinstance(registered, p.Registered)
        return registered.code

    codes = await asyncio.gather(*(one() for _ in range(60)))
    assert len(set(codes)) == 60
    assert all(p.is_code(c, 4) for c in codes)
    neighbours = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :] if p.are_typo_neighbours(a, b)]
    assert neighbours == []
    assert len(relay.audit_rows("code_issued")) == 60
