"""The agent survives a dropped relay connection: it resumes with the same code.

A real TCP proxy sits between the agent and the relay so the test can cut the
connection the way a flaky network would, without the relay noticing first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from agent.session import AgentEvent, AgentSession, CodeShown, OperatorAsking, Reconnecting
from operator_console.client import ClaimAccepted, OperatorClient
from relay.server import RunningRelay, running_relay

PASSWORD = "correct horse battery"


class CuttableProxy:
    """Forwards 127.0.0.1:port to the relay; ``cut()`` drops every live connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, up_writer}
        pipes = [
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        ]
        self._tasks.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for w in (writer, up_writer):
            w.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    def cut(self) -> None:
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in self._tasks:
            task.cancel()


@pytest.fixture
async def relay() -> AsyncIterator[RunningRelay]:
    async with running_relay() as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        yield running


async def test_code_survives_a_dropped_connection(relay: RunningRelay) -> None:
    proxy = CuttableProxy(relay.port)
    await proxy.start()
    events: list[AgentEvent] = []
    codes: asyncio.Queue[str] = asyncio.Queue()
    asked = asyncio.Event()

    def on_event(event: AgentEvent) -> None:
        events.append(event)
        if isinstance(event, CodeShown):
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
