"""The whole pairing sequence against a real relay on 127.0.0.1."""

from __future__ import annotations

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
    async with running_relay(fast_config(tmp_path)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        yield running


async def test_whole_session(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register(client="agent", sysinfo_scope="detailed")
    assert isinstance(registered, p.Registered)
    assert p.is_code(registered.code, 4)
    assert registered.expires_in_s == relay.config.code_ttl_s

    token = await login(http, relay, "hanako", PASSWORD)
    operator = await SignalingClient.operator(http, relay, token)
    await operator.send(p.Claim(code=registered.code))
    pending = await operator.expect(p.ClaimPending)
    assert (pending.client, pending.sysinfo_scope) == ("agent", "detailed")
    request = await agent.expect(p.OperatorRequest)
    assert request.operator.display_name == "佐藤 花子"
    assert request.operator.organisation == "Madoguchi Securities"

    await agent.send(p.Decision(allowed=True))
    start_agent = await agent.expect(p.SessionStart)
    start_operator = await operator.expect(p.SessionStart)
    assert start_agent.session_id == start_operator.session_id

    await agent.send(p.Offer(sdp="v=0\r\noffer\r\n"))
    assert (await operator.expect(p.Offer)).sdp == "v=0\r\noffer\r\n"
    await operator.send(p.Answer(sdp="v=0\r\nanswer\r\n"))
    assert (await agent.expect(p.Answer)).sdp == "v=0\r\nanswer\r\n"
    ice = p.Ice(candidate="candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdp_mid="0", sdp_mline_index=0)
    await agent.send(ice)
    assert await operator.expect(p.Ice) == ice
    await operator.send(ice)
    assert await agent.expect(p.Ice) == ice

    await operator.send(p.Bye())
    assert await operator.expect(p.Ended) == p.Ended(reason=p.EndReason.NORMAL, by="operator")
    assert await agent.expect(p.Ended) == p.Ended(reason=p.EndReason.NORMAL, by="operator")
    code, _ = await agent.closed()
    assert code == 1000
    await operator.close()
    events = [row.event for row in relay.audit_rows()]
    for event in (
        "code_issued",
        "login_succeeded",
        "claim_succeeded",
        "allowed",
        "session_started",
        "session_ended",
    ):
        assert event in events
