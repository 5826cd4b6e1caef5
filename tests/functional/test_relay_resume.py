"""A resume never takes over silently: the replaced socket and the operator are told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config

from .relay_session import PASSWORD, check_exchange, claimed, in_session


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


async def resume(http: aiohttp.ClientSession, relay: RunningRelay, token: str) -> SignalingClient:
    client = await SignalingClient.agent(http, relay)
    await client.send(p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=token))
    return client


async def replaced(old: SignalingClient) -> None:
    error = await old.expect(p.Error)
    assert error.code is p.ErrorCode.RESUMED_ELSEWHERE
    assert error.fatal
    assert (await old.closed())[0] == 1008


async def test_resume_over_a_live_socket_in_session(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent, op, registered = await in_session(http, relay)
    thief = await resume(http, relay, registered.resume_token)
    resumed = await thief.expect(p.Resumed)
    await replaced(agent)
    # the operator sees the customer's connection go and come back, as on any resume
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=False)
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=True)
    await check_exchange(thief, op, "new socket")
    (row,) = relay.audit_rows("agent_resumed")
    assert row.session_id == resumed.session_id
    assert row.detail == {"phase": "active", "replaced": True}


async def test_resume_over_a_live_socket_while_the_customer_is_asked(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    agent, op, registered = await claimed(http, relay)
    second = await resume(http, relay, registered.resume_token)
    assert isinstance(await second.recv(), p.Registered)
    assert (await second.expect(p.OperatorRequest)).operator.display_name == "佐藤 花子"
    await replaced(agent)
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=False)
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=True)
    await second.send(p.Decision(allowed=True))
    await op.expect(p.SessionStart)


async def test_resume_over_a_live_waiting_socket(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    second = await resume(http, relay, registered.resume_token)
    again = await second.expect(p.Registered)
    assert again.code == registered.code
    await replaced(agent)
