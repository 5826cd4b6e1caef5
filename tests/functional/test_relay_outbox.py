"""What each socket carries on a real relay: its outbox, and no compression.

The outbox writes through a task that exists only while something is queued (an idle
socket holds no task and no queue); these tests keep what that must not change: a
client that stops reading is closed, nobody else waits, bursts arrive whole and in
order. Compression is never negotiated (docs/performance.md, "Relay": ~113 KiB per socket).
"""

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
    async with running_relay(fast_config(tmp_path, resume_grace_s=0.5, heartbeat_s=1.0)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


async def _session(
    http: aiohttp.ClientSession, agent_http: aiohttp.ClientSession, relay: RunningRelay, token: str
) -> tuple[SignalingClient, SignalingClient]:
    agent = await SignalingClient.agent(agent_http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    op = await SignalingClient.operator(http, relay, token)
    await op.send(p.Claim(code=registered.code))
    await op.expect(p.ClaimPending)
    await agent.expect(p.OperatorRequest)
    await agent.send(p.Decision(allowed=True))
    await agent.expect(p.SessionStart)
    await op.expect(p.SessionStart)
    return agent, op


async def test_a_client_that_stops_reading_is_closed_and_stalls_nobody(
    relay: RunningRelay, caplog: pytest.LogCaptureFixture
) -> None:
    async with aiohttp.ClientSession() as http, aiohttp.ClientSession() as stalled_http:
        token = await login(http, relay, "hanako", PASSWORD)
        stalled, op = await _session(http, stalled_http, relay, token)
        agent2, op2 = await _session(http, http, relay, token)
        # The stalled agent reads nothing from here on; its operator sends big answers.
        big = p.Answer(sdp="v=0\r\n" + "a=x\r\n" * 9000)
        for _ in range(600):
            await op.send(big)
        # Meanwhile the other session is answered at once.
        await agent2.send(p.Offer(sdp="v=0"))
        assert isinstance(await op2.expect(p.Offer), p.Offer)
        # The relay gives up on the stalled agent: its operator hears that it is gone.
        op.timeout = 15.0
        status = await op.expect(p.PeerStatus)
        assert status.connected is False
        ended = await op.expect(p.Ended)
        assert ended.reason is p.EndReason.PEER_GONE
        assert "a1: outbox full, closing" in caplog.text
        await stalled.close()


async def test_idle_sockets_get_every_message_in_order(relay: RunningRelay) -> None:
    """Writers come and go with the traffic: bursts after idle spells arrive whole and in order."""
    async with aiohttp.ClientSession() as http:
        token = await login(http, relay, "hanako", PASSWORD)
        agent, op = await _session(http, http, relay, token)
        for burst in range(3):
            await asyncio.sleep(0.05)  # idle: no writer task left for either socket
            for i in range(20):
                await op.send(p.Ice(candidate=f"candidate:{burst}-{i}"))
            for i in range(20):
                assert (await agent.expect(p.Ice)).candidate == f"candidate:{burst}-{i}"
        await agent.send(p.Bye())
        assert (await agent.expect(p.Ended)).reason is p.EndReason.NORMAL
        assert (await agent.closed())[0] == 1000
        assert (await op.expect(p.Ended)).reason is p.EndReason.NORMAL


async def test_permessage_deflate_is_declined(relay: RunningRelay) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(relay.ws_url("agent"), compress=15)  # as every browser offers
        assert ws.compress == 0
        await ws.close()
