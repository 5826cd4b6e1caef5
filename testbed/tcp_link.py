"""A TCP link on 127.0.0.1 that a test can break and mend, like a flaky network.

It forwards ``127.0.0.1:port`` to ``127.0.0.1:target_port``. ``cut()`` aborts every
live connection (no close handshake: the peers see a dropped network, not a
goodbye); ``down()`` also refuses new connections until ``up()``. Used by the
reconnect tests and the UI test worlds; it only ever talks to loopback.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["BreakableLink"]


class BreakableLink:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.is_up = True
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.is_up:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        pipes = {
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        }
        self._tasks |= pipes
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for w in (writer, up_writer):
            w.transport.abort()
            self._writers.discard(w)
        self._tasks -= pipes

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    def cut(self) -> None:
        """Abort every live connection; new ones still get through."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def down(self) -> None:
        """The network is gone: cut everything and refuse new connections."""
        self.is_up = False
        self.cut()

    def up(self) -> None:
        self.is_up = True

    async def close(self) -> None:
        self.down()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
