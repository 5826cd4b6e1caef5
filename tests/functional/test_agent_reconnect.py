"""The agent survives a dropped relay connection: it resumes with the same code.

A real TCP link (testbed.tcp_link) sits between the agent and the relay so the
test can cut the connection the way a flaky network would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.session import AgentEvent, AgentSession, CodeAssigned, OperatorAsking, Reconnecting
from operator_console.client import ClaimAccepted, OperatorClient
from relay.server import RunningRelay, running_relay
from testbed.tcp_link import BreakableLink

PASSWORD = "correct horse battery"


@pytest.fixture
async def relay() -> AsyncIterator[RunningRelay]:
    async with running_relay() as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        yield running


async def test_code_survives_a_dropped_connection(relay: RunningRelay) -> None:
    proxy = BreakableLink(relay.port)
    await proxy.start()
    events: list[AgentEvent] = []
    codes: asyncio.Queue[str] = asyncio.Queue()
    asked = asyncio.Event()

    def on_event(event: AgentEvent) -> None:
        events.append(event)
        if isinstance(event, CodeAssigned):
            codes.put_nowait(event.code)
        if isinstance(event, OperatorAsking):
            asked.set()

    session = AgentSession(
        f"http://127.0.0.1:{proxy.port}",
        track_factory=lambda: pytest.fail("no capture expected"),
        on_event=on_event,
        on_guidance=lambda m: None,
        reconnect_delays_s=(0.2,),
    )
    task = asyncio.ensure_future(session.run(consent_accepted=True))
    operator = OperatorClient(relay.url)
    try:
        first = await asyncio.wait_for(codes.get(), 10)
        proxy.cut()
        again = await asyncio.wait_for(codes.get(), 10)
        assert again == first
        assert any(isinstance(e, Reconnecting) for e in events)
        # The code still works for the operator after the drop.
        await operator.login("hanako", PASSWORD)
        await operator.claim(first)
        event = await operator.next_event(10)
        assert isinstance(event, ClaimAccepted)
        await asyncio.wait_for(asked.wait(), 10)
    finally:
        await operator.close()
        await session.stop()
        await asyncio.wait_for(task, 10)
        await proxy.close()
