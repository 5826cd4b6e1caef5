"""The counters in /metrics count what docs/operations.md says they count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config

from .relay_session import PASSWORD, claimed, in_session


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path, allow_timeout_s=0.5, resume_grace_s=2.0)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


async def metrics(http: aiohttp.ClientSession, relay: RunningRelay) -> dict[str, float]:
    async with http.get(f"{relay.url}/metrics") as r:
        text = await r.text()
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def ended(reason: str) -> str:
    return f'madoguchi_sessions_ended_total{{reason="{reason}"}}'


async def test_denied_and_timed_out_claims_are_counted_as_ended(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    agent, op, _ = await claimed(http, relay)
    await agent.send(p.Decision(allowed=False))
    await op.expect(p.Ended)
    agent, op, _ = await claimed(http, relay)
    assert (await op.expect(p.Ended)).reason is p.EndReason.ALLOW_TIMEOUT
    agent, op, _ = await in_session(http, relay)
    await op.send(p.Bye())
    await op.expect(p.Ended)
    values = await metrics(http, relay)
    assert values[ended("denied")] == 1
    assert values[ended("allow_timeout")] == 1
    assert values[ended("normal")] == 1
    assert values["madoguchi_sessions_started_total"] == 1


async def test_messages_queued_for_an_away_agent_are_counted_as_forwarded(
    relay: RunningRelay, http: aiohttp.ClientSession
) -> None:
    async with aiohttp.ClientSession() as doomed:
        agent = await SignalingClient.agent(doomed, relay)
        registered = await agent.register()
        assert isinstance(registered, p.Registered)
        _, op, _ = await in_session(http, relay)  # another session, to have an operator socket
        await op.send(p.Bye())
        await op.expect(p.Ended)
        await op.send(p.Claim(code=registered.code))
        await op.expect(p.ClaimPending)
        await agent.expect(p.OperatorRequest)
        await agent.send(p.Decision(allowed=True))
        await agent.expect(p.SessionStart)
        await op.expect(p.SessionStart)
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=False)
    await op.send(p.Answer(sdp="v=0\r\nwhile away\r\n"))
    await op.send(p.Ice(candidate=""))
    back = await SignalingClient.agent(http, relay)
    await back.send(p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=registered.resume_token))
    await back.expect(p.Resumed)
    assert (await back.expect(p.Answer)).sdp == "v=0\r\nwhile away\r\n"
    await back.expect(p.Ice)
    values = await metrics(http, relay)
    assert values['madoguchi_messages_forwarded_total{type="answer"}'] == 1
    assert values['madoguchi_messages_forwarded_total{type="ice"}'] == 1
