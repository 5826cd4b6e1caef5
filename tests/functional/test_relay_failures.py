"""Deny, allow timeout, vanishing peers, resume, bad input and shutdown on a real relay."""

from __future__ import annotations

import asyncio
import json
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
    async with running_relay(fast_config(tmp_path, allow_timeout_s=0.5, resume_grace_s=0.5)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


async def claimed(
    http: aiohttp.ClientSession, relay: RunningRelay, agent_session: aiohttp.ClientSession | None = None
) -> tuple[SignalingClient, SignalingClient, p.Registered]:
    agent = await SignalingClient.agent(agent_session or http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered)
    op = await SignalingClient.operator(http, relay, await login(http, relay, "hanako", PASSWORD))
    await op.send(p.Claim(code=registered.code))
    await op.expect(p.ClaimPending)
    await agent.expect(p.OperatorRequest)
    return agent, op, registered


async def in_session(
    http: aiohttp.ClientSession, relay: RunningRelay, agent_session: aiohttp.ClientSession | None = None
) -> tuple[SignalingClient, SignalingClient, p.Registered]:
    agent, op, registered = await claimed(http, relay, agent_session)
    await agent.send(p.Decision(allowed=True))
    await agent.expect(p.SessionStart)
    await op.expect(p.SessionStart)
    return agent, op, registered


async def test_deny(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent, op, _ = await claimed(http, relay)
    await agent.send(p.Decision(allowed=False))
    denied = p.Ended(reason=p.EndReason.DENIED, by="agent")
    assert await agent.expect(p.Ended) == denied
    assert await op.expect(p.Ended) == denied
    assert (await agent.closed())[0] == 1000
    assert len(relay.audit_rows("denied")) == 1
    assert relay.audit_rows("session_started") == []


async def test_allow_timeout(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent, op, _ = await claimed(http, relay)
    timeout = p.Ended(reason=p.EndReason.ALLOW_TIMEOUT, by="relay")
    assert await agent.expect(p.Ended) == timeout
    assert await op.expect(p.Ended) == timeout
    assert len(relay.audit_rows("allow_timeout")) == 1


async def test_operator_vanishing_mid_session(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    async with aiohttp.ClientSession() as doomed:
        agent = await SignalingClient.agent(http, relay)
        registered = await agent.register()
        assert isinstance(registered, p.Registered)
        op = await SignalingClient.operator(doomed, relay, await login(doomed, relay, "hanako", PASSWORD))
        await op.send(p.Claim(code=registered.code))
        await agent.expect(p.OperatorRequest)
        await agent.send(p.Decision(allowed=True))
        await agent.expect(p.SessionStart)
    # the operator's process died (connections dropped without a close frame): the
    # customer hears it at once, and the session ends when the resume grace runs out
    assert await agent.expect(p.PeerStatus) == p.PeerStatus(connected=False)
    assert await agent.expect(p.Ended) == p.Ended(reason=p.EndReason.PEER_GONE, by="operator")
    ended = relay.audit_rows("session_ended")
    assert ended[0].detail["reason"] == "peer_gone"


async def test_agent_vanishing_mid_session(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    doomed = aiohttp.ClientSession()
    _, op, _ = await in_session(http, relay, agent_session=doomed)
    await doomed.close()
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=False)
    assert await op.expect(p.Ended) == p.Ended(reason=p.EndReason.PEER_GONE, by="agent")  # after the grace
    # the operator's socket carries on
    agent2 = await SignalingClient.agent(http, relay)
    registered = await agent2.register()
    assert isinstance(registered, p.Registered)
    await op.send(p.Claim(code=registered.code))
    await op.expect(p.ClaimPending)


async def test_agent_resume(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    doomed = aiohttp.ClientSession()
    _, op, registered = await in_session(http, relay, agent_session=doomed)
    await doomed.close()
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=False)
    await op.send(p.Answer(sdp="v=0\r\nwhile away\r\n"))
    agent = await SignalingClient.agent(http, relay)
    await agent.send(p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=registered.resume_token))
    resumed = await agent.expect(p.Resumed)
    assert await agent.expect(p.Answer) == p.Answer(sdp="v=0\r\nwhile away\r\n")
    assert await op.expect(p.PeerStatus) == p.PeerStatus(connected=True)
    await agent.send(p.Offer(sdp="v=0\r\nagain\r\n"))
    assert (await op.expect(p.Offer)).sdp == "v=0\r\nagain\r\n"
    await asyncio.sleep(0.7)  # longer than the grace: the session must still be there
    await agent.send(p.Bye())
    assert await op.expect(p.Ended) == p.Ended(reason=p.EndReason.NORMAL, by="agent")
    rows = relay.audit_rows("agent_resumed")
    assert len(rows) == 1
    assert rows[0].session_id == resumed.session_id
    assert all(registered.resume_token not in repr(row) for row in relay.audit_rows())


@pytest.mark.parametrize(
    ("payload", "error", "close_code"),
    [
        ("this is not json", p.ErrorCode.BAD_MESSAGE, 1008),
        (json.dumps({"type": "launch_missiles"}), p.ErrorCode.BAD_MESSAGE, 1008),
        (json.dumps({"type": "claim"}), p.ErrorCode.BAD_MESSAGE, 1008),
        (json.dumps({"type": "offer", "sdp": "v=0"}), p.ErrorCode.UNEXPECTED_MESSAGE, 1008),
        (json.dumps({"type": "ice", "candidate": "x" * (70 * 1024)}), p.ErrorCode.MESSAGE_TOO_LARGE, 1009),
        (b"\x00binary", p.ErrorCode.BAD_MESSAGE, 1008),
    ],
    ids=["not-json", "unknown-type", "missing-field", "out-of-order", "oversized", "binary"],
)
async def test_bad_input_closes_only_that_connection(
    relay: RunningRelay,
    http: aiohttp.ClientSession,
    payload: str | bytes,
    error: p.ErrorCode,
    close_code: int,
) -> None:
    agent, op, _ = await in_session(http, relay)
    bad = await SignalingClient.agent(http, relay)
    if isinstance(payload, bytes):
        await bad.ws.send_bytes(payload)
    else:
        await bad.send_raw(payload)
    reply = await bad.expect(p.Error)
    assert reply.code is error
    assert reply.fatal
    assert (await bad.closed())[0] == close_code
    # the other session is untouched
    await agent.send(p.Offer(sdp="v=0\r\nstill here\r\n"))
    assert (await op.expect(p.Offer)).sdp == "v=0\r\nstill here\r\n"
    async with http.get(f"{relay.url}/healthz") as response:
        assert response.status == 200
    rows = relay.audit_rows("protocol_error")
    assert [r.detail["error"] for r in rows] == [error.value]


async def test_bad_input_from_a_peer_in_session(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent, op, _ = await in_session(http, relay)
    await op.send_raw("{broken")
    assert (await op.expect(p.Error)).code is p.ErrorCode.BAD_MESSAGE
    assert await agent.expect(p.Ended) == p.Ended(reason=p.EndReason.PEER_GONE, by="operator")


async def test_shutdown_closes_every_socket_with_a_reason(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_relay(fast_config(tmp_path)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        agent, op, _ = await in_session(http, relay)
        idle = await SignalingClient.agent(http, relay)
        waiting = await SignalingClient.agent(http, relay)
        await waiting.register()
    assert await agent.expect(p.Ended) == p.Ended(reason=p.EndReason.SHUTDOWN, by="relay")
    assert (await agent.closed())[0] == 1001
    assert await op.expect(p.Ended) == p.Ended(reason=p.EndReason.SHUTDOWN, by="relay")
    assert (await op.expect(p.Error)).code is p.ErrorCode.SHUTTING_DOWN
    assert (await op.closed())[0] == 1001
    assert (await idle.expect(p.Error)).code is p.ErrorCode.SHUTTING_DOWN
    assert (await waiting.expect(p.Ended)).reason is p.EndReason.SHUTDOWN


async def test_a_socket_that_answers_pings_stays_and_its_pings_are_answered(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    config = fast_config(tmp_path, heartbeat_s=0.3)
    async with running_relay(config) as relay:
        ws = await http.ws_connect(relay.ws_url("agent"), autoping=False)
        await ws.send_str(
            '{"type":"register","protocol_version":1,"client_version":"t","consent_accepted":true}'
        )
        pings = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.2  # four heartbeats
        while loop.time() < deadline:
            try:
                frame = await ws.receive(timeout=deadline - loop.time())
            except TimeoutError:
                break
            if frame.type is aiohttp.WSMsgType.PING:
                pings += 1
                await ws.pong(frame.data)
            elif frame.type is not aiohttp.WSMsgType.TEXT:  # the code, registered
                raise AssertionError(f"unexpected {frame.type}: {frame.data!r}")
        assert pings >= 2
        assert not ws.closed
        # the relay answers a client's ping in turn with its messages
        await ws.ping(b"are you there")
        while (frame := await ws.receive(timeout=2)).type is aiohttp.WSMsgType.PING:
            await ws.pong(frame.data)
        assert frame.type is aiohttp.WSMsgType.PONG
        assert frame.data == b"are you there"
        assert relay.state.registry.stats().connections == 1
        await ws.close()


async def test_silent_and_dead_sockets_are_closed(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    config = fast_config(tmp_path, hello_timeout_s=0.3, heartbeat_s=0.4)
    async with running_relay(config) as relay:
        silent = await SignalingClient.agent(http, relay)
        error = await silent.expect(p.Error)
        assert error.code is p.ErrorCode.IDLE_TIMEOUT
        assert error.fatal
        # a client that never answers pings (its process hangs) is dropped too
        deaf = await http.ws_connect(relay.ws_url("agent"), autoping=False)
        await deaf.send_str(
            '{"type":"register","protocol_version":1,"client_version":"t","consent_accepted":true}'
        )
        kinds = []
        while True:
            frame = await deaf.receive(timeout=5)
            kinds.append(frame.type)
            if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
        assert aiohttp.WSMsgType.PING in kinds
        for _ in range(50):  # the relay notices on its side, too
            if relay.state.registry.stats().connections == 0:
                break
            await asyncio.sleep(0.02)
        assert relay.state.registry.stats().connections == 0
        assert relay.state.registry.stats().codes_pending == 1  # kept for the resume grace
