"""A legitimate session on a real relay: the yardstick that hostile input must leave untouched.

``in_session`` registers an agent, logs in ``hanako``, claims the code, allows and
returns both sockets with signaling open; ``check_exchange`` proves messages still
flow both ways. The relay must have the operator ``hanako`` with ``PASSWORD``.
"""

from __future__ import annotations

import aiohttp

import protocol as p
from relay.server import RunningRelay
from relay.testing import SignalingClient, login

__all__ = ["PASSWORD", "check_exchange", "claimed", "in_session"]

PASSWORD = "correct horse battery"


async def claimed(
    http: aiohttp.ClientSession, relay: RunningRelay, *, username: str = "hanako"
) -> tuple[SignalingClient, SignalingClient, p.Registered]:
    agent = await SignalingClient.agent(http, relay)
    registered = await agent.register()
    assert isinstance(registered, p.Registered), registered
    op = await SignalingClient.operator(http, relay, await login(http, relay, username, PASSWORD))
    await op.send(p.Claim(code=registered.code))
    await op.expect(p.ClaimPending)
    await agent.expect(p.OperatorRequest)
    return agent, op, registered


async def in_session(
    http: aiohttp.ClientSession, relay: RunningRelay, *, username: str = "hanako"
) -> tuple[SignalingClient, SignalingClient, p.Registered]:
    agent, op, registered = await claimed(http, relay, username=username)
    await agent.send(p.Decision(allowed=True))
    await agent.expect(p.SessionStart)
    await op.expect(p.SessionStart)
    return agent, op, registered


async def check_exchange(agent: SignalingClient, op: SignalingClient, tag: str) -> None:
    """One offer, one answer and one candidate each way, unchanged."""
    await agent.send(p.Offer(sdp=f"v=0\r\ns={tag}\r\n"))
    assert (await op.expect(p.Offer)).sdp == f"v=0\r\ns={tag}\r\n"
    await op.send(p.Answer(sdp=f"v=0\r\ns={tag}-answer\r\n"))
    assert (await agent.expect(p.Answer)).sdp == f"v=0\r\ns={tag}-answer\r\n"
    ice = p.Ice(candidate=f"candidate:1 1 udp 1 127.0.0.1 5000 typ host generation {len(tag)}", sdp_mid="0")
    await agent.send(ice)
    assert await op.expect(p.Ice) == ice
    await op.send(ice)
    assert await agent.expect(p.Ice) == ice
