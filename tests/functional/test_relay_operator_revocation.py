"""An open operator socket is only as good as its login: checked at every claim, and while it lasts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config, login

from .relay_session import PASSWORD, check_exchange, in_session


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path, account_check_interval_s=0.2)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        running.add_operator("taro", PASSWORD, "山田 太郎", "ACME")
        yield running


async def refused(op: SignalingClient) -> None:
    error = await op.expect(p.Error)
    assert error.code is p.ErrorCode.NOT_AUTHORISED
    assert error.fatal
    assert (await op.closed())[0] == 1008


@pytest.mark.parametrize("request_", [p.Claim(code="0000"), p.IssueCode()], ids=["claim", "issue_code"])
async def test_a_disabled_operator_cannot_claim_on_an_open_socket(
    tmp_path: Path, http: aiohttp.ClientSession, request_: p.SignalingMessage
) -> None:
    # no periodic check here: the claim itself must notice
    async with running_relay(fast_config(tmp_path, account_check_interval_s=3600)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        agent = await SignalingClient.agent(http, relay)
        registered = await agent.register()
        assert isinstance(registered, p.Registered)
        op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
        relay.accounts.set_disabled("hanako", True)  # as `madoguchi admin disable-operator` does
        if isinstance(request_, p.Claim):
            request_ = p.Claim(code=registered.code)
        await op.send(request_)
        await refused(op)
        with pytest.raises(TimeoutError):  # the customer was never asked
            await asyncio.wait_for(agent.ws.receive(), 0.2)
        assert relay.audit_rows("claim_succeeded") == []
        assert len(relay.audit_rows("operator_auth_failed")) == 1


async def test_an_expired_token_cannot_claim(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running_relay(fast_config(tmp_path, token_ttl_s=0.5)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        agent = await SignalingClient.agent(http, relay)
        registered = await agent.register()
        assert isinstance(registered, p.Registered)
        op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
        await asyncio.sleep(0.7)
        await op.send(p.Claim(code=registered.code))
        await refused(op)
        # a fresh login claims the same code
        op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
        await op.send(p.Claim(code=registered.code))
        await op.expect(p.ClaimPending)


async def test_an_expired_token_does_not_cut_a_running_session(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    config = fast_config(tmp_path, token_ttl_s=0.5, account_check_interval_s=0.1)
    async with running_relay(config) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        agent, op, _ = await in_session(http, relay)
        await asyncio.sleep(0.7)
        await check_exchange(agent, op, "after the token expired")


async def test_disabling_an_operator_ends_their_sessions(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    agent, op, _ = await in_session(http, relay)
    other_agent, other_op, _ = await in_session(http, relay, username="taro")
    relay.accounts.set_disabled("hanako", True)
    ended = p.Ended(reason=p.EndReason.ADMIN, by="relay")
    assert await agent.expect(p.Ended) == ended
    assert (await agent.closed())[0] == 1000
    assert await op.expect(p.Ended) == ended
    await refused(op)
    (row,) = relay.audit_rows("session_ended")
    assert row.operator == "hanako"
    assert row.detail["reason"] == "admin"
    # another operator's session carries on
    await check_exchange(other_agent, other_op, "taro still here")
