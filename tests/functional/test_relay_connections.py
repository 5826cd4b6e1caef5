"""TCP connections that never become a request, slow bodies, too many connections, no fds left.

Client addresses are real: a flood "from another address" binds to its own 127.0.0.x,
so the legitimate session on 127.0.0.1 shows that only the offender is limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from relay.server import RunningRelay, running_relay
from relay.testing import fast_config, self_signed_certificate

from .relay_session import PASSWORD, check_exchange, in_session

IDLE = 0.5
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    config = fast_config(
        tmp_path, http_idle_timeout_s=IDLE, http_body_timeout_s=IDLE, max_connections_per_ip=8
    )
    async with running_relay(config) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


class Tcp:
    """Raw TCP connections to the relay, all closed at the end."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def open(self, local_host: str = "127.0.0.1") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        stream = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(local_host, 0))
        self.streams.append(stream)
        return stream

    async def close(self) -> None:
        for _, writer in self.streams:
            writer.transport.abort()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


@pytest.fixture
async def tcp(relay: RunningRelay) -> AsyncIterator[Tcp]:
    connections = Tcp(relay.port)
    yield connections
    await connections.close()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> tuple[float, bytes]:
    """Seconds until the relay closed the connection, and what it sent before."""
    start = time.monotonic()
    received = b""
    async with asyncio.timeout(seconds):
        while True:
            try:
                chunk = await reader.read(4096)
            except ConnectionError:
                break
            if not chunk:
                break
            received += chunk
    return time.monotonic() - start, received


async def test_a_connection_that_never_sends_a_request_is_closed(relay: RunningRelay, tcp: Tcp) -> None:
    reader, _ = await tcp.open()
    seconds, received = await closed_within(reader, IDLE + 3)
    assert received == b""
    assert seconds < IDLE + 1.5


async def test_headers_trickled_byte_by_byte_are_cut_off(relay: RunningRelay, tcp: Tcp) -> None:
    reader, writer = await tcp.open()
    request = b"GET /healthz HTTP/1.1\r\nHost: relay\r\nX-Slow: " + b"a" * 200

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError, OSError):
            for byte in request:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.02)

    task = asyncio.create_task(trickle())
    seconds, _ = await closed_within(reader, IDLE + 3)
    task.cancel()
    assert seconds < IDLE + 1.5


async def test_an_idle_keep_alive_connection_is_closed(relay: RunningRelay, tcp: Tcp) -> None:
    reader, writer = await tcp.open()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
    assert head.startswith(b"HTTP/1.1 200")
    seconds, _ = await closed_within(reader, IDLE + 3)
    assert seconds < IDLE + 1.5


async def test_a_login_body_that_never_arrives(relay: RunningRelay, tcp: Tcp) -> None:
    reader, writer = await tcp.open()
    writer.write(
        b"POST /api/login HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"username": "hanako"'
    )
    await writer.drain()
    seconds, received = await closed_within(reader, IDLE + 4)
    assert received.startswith(b"HTTP/1.1 408"), received
    assert seconds < IDLE + 3


async def test_connections_per_address_are_capped(
    relay: RunningRelay, http: aiohttp.ClientSession, tcp: Tcp
) -> None:
    agent, op, _ = await in_session(http, relay)  # 127.0.0.1
    held = [await tcp.open("127.0.0.2") for _ in range(8)]
    extra_reader, _ = await tcp.open("127.0.0.2")
    seconds, _ = await closed_within(extra_reader, 2)  # refused at once, not at the idle timeout
    assert seconds < IDLE
    await check_exchange(agent, op, "127.0.0.2 is at its cap")
    async with http.get(f"{relay.url}/metrics") as r:
        assert 'madoguchi_connections_refused_total{reason="per_address"} 1.0' in await r.text()
    # the held ones time out, and the address may connect again
    for reader, _ in held:
        await closed_within(reader, IDLE + 3)
    reader, writer = await tcp.open("127.0.0.2")
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
    await writer.drain()
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)).startswith(b"HTTP/1.1 200")


async def test_total_connections_are_capped(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with running_relay(fast_config(tmp_path, max_connections=4)) as relay:
        tcp = Tcp(relay.port)
        try:
            for host in range(2, 6):
                await tcp.open(f"127.0.0.{host}")
            reader, _ = await tcp.open("127.0.0.9")
            seconds, _ = await closed_within(reader, 2)
            assert seconds < 1
        finally:
            await tcp.close()
        async with http.get(f"{relay.url}/metrics") as r:
            assert 'madoguchi_connections_refused_total{reason="total"} 1.0' in await r.text()


async def test_tls_handshakes_are_counted_and_have_a_deadline(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    config = fast_config(tmp_path / "d", http_idle_timeout_s=IDLE, max_connections_per_ip=3)
    async with running_relay(config, ssl_context=server_ctx) as relay:
        tcp = Tcp(relay.port)
        try:
            silent = [await tcp.open("127.0.0.2") for _ in range(3)]  # TCP only, no ClientHello
            extra, _ = await tcp.open("127.0.0.2")
            assert (await closed_within(extra, 2))[0] < IDLE
            for reader, _ in silent:
                assert (await closed_within(reader, IDLE + 3))[0] < IDLE + 1.5
        finally:
            await tcp.close()
        async with http.get(f"{relay.url}/healthz", ssl=client_ctx) as r:
            assert r.status == 200
        assert relay.state.registry.stats().connections == 0


# A relay in a child process that can be made to run out of file descriptors on demand:
# "fill" opens /dev/null until EMFILE, "free" closes them again.
_CHILD = r"""
import asyncio, logging, os, sys
from pathlib import Path
from relay.server import running_relay
from relay.testing import fast_config, self_signed_certificate

logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")

async def main():
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with running_relay(fast_config(Path(sys.argv[1]), http_idle_timeout_s=2.0)) as relay:
        print(relay.url, flush=True)
        spare = []
        while (line := (await stdin.readline()).strip()) != b"stop":
            if line == b"fill":
                try:
                    while True:
                        spare.append(os.open(os.devnull, os.O_RDONLY))
                except OSError:
                    pass
                print("full", flush=True)
            elif line == b"free":
                for fd in spare:
                    os.close(fd)
                spare.clear()
                print("freed", flush=True)

asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fd exhaustion is provoked the Linux way")
async def test_out_of_file_descriptors_is_logged_once_and_the_relay_recovers(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        str(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    assert child.stderr is not None

    async def say(word: str, answer: str) -> None:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(word.encode() + b"\n")
        await child.stdin.drain()
        assert (await asyncio.wait_for(child.stdout.readline(), 10)).strip().decode() == answer

    # read stderr all along: a log storm must fail the test, not fill the pipe and hang the child
    stderr_task = asyncio.create_task(child.stderr.read())
    url = (await asyncio.wait_for(child.stdout.readline(), 20)).strip().decode()
    port = int(url.rsplit(":", 1)[1])
    flood: list[asyncio.StreamWriter] = []
    try:
        await say("fill", "full")
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # ~2.5 s of connection attempts, a few dozen at a time
            for _ in range(20):
                with contextlib.suppress(OSError, TimeoutError):
                    _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 0.2)
                    flood.append(writer)
            await asyncio.sleep(0.1)
        for writer in flood:
            writer.transport.abort()
        await say("free", "freed")
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # accept() is retried after a second
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the relay did not recover once descriptors were free")
        child.stdin.write(b"stop\n")
        await child.stdin.drain()
        await asyncio.wait_for(child.wait(), 20)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    stderr = (await stderr_task).decode()
    assert "Traceback" not in stderr, stderr[:3000]
    lines = [line for line in stderr.splitlines() if "accept" in line]
    assert 1 <= len(lines) <= 3, stderr[:3000]
    assert "Too many open files" in lines[0]
