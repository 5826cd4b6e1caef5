"""Small helpers for driving a relay from tests and benchmarks.

``SignalingClient`` is a bare websocket client speaking the signaling protocol:
it sends messages (or raw text) and returns decoded replies, with a timeout on
every wait so a broken relay fails a test instead of hanging it. ``login``
fetches an operator token. These are deliberately thin: the real agent and
console have their own signaling code.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp

from protocol import (
    PROTOCOL_VERSION,
    Auth,
    Authenticated,
    Message,
    Register,
    Role,
    SignalingMessage,
    decode_signaling,
    encode,
)

from .config import RelayConfig, load_config
from .server import RunningRelay

__all__ = ["ClosedError", "SignalingClient", "fast_config", "login", "self_signed_certificate"]

_M = TypeVar("_M", bound=Message)


class ClosedError(AssertionError):
    """The relay closed the websocket while a message was expected."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"websocket closed ({code}): {reason}")
        self.code = code
        self.reason = reason


async def login(session: aiohttp.ClientSession, relay: RunningRelay, username: str, password: str) -> str:
    async with session.post(f"{relay.url}/api/login", json={"username": username, "password": password}) as r:
        body = await r.json()
        if r.status != 200:
            raise AssertionError(f"login failed: {r.status} {body}")
        token = body["token"]
        assert isinstance(token, str)
        return token


class SignalingClient:
    """One websocket to ``/ws/agent`` or ``/ws/operator``."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout

    @classmethod
    async def connect(
        cls,
        session: aiohttp.ClientSession,
        relay: RunningRelay,
        role: Role,
        *,
        timeout: float = 5.0,
    ) -> SignalingClient:
        ws = await session.ws_connect(relay.ws_url(role), autoping=True)
        return cls(ws, timeout)

    @classmethod
    async def agent(cls, session: aiohttp.ClientSession, relay: RunningRelay, **kw: float) -> SignalingClient:
        return await cls.connect(session, relay, "agent", **kw)

    @classmethod
    async def operator(
        cls, session: aiohttp.ClientSession, relay: RunningRelay, token: str, **kw: float
    ) -> SignalingClient:
        client = await cls.connect(session, relay, "operator", **kw)
        await client.send(Auth(protocol_version=PROTOCOL_VERSION, token=token))
        await client.expect(Authenticated)
        return client

    async def register(self, **fields: object) -> SignalingMessage:
        values: dict[str, object] = {
            "protocol_version": PROTOCOL_VERSION,
            "client_version": "test",
            "consent_accepted": True,
        }
        values.update(fields)
        await self.send(Register(**values))  # type: ignore[arg-type]
        return await self.recv()

    async def send(self, message: Message) -> None:
        await self.ws.send_str(encode(message))

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    async def recv(self) -> SignalingMessage:
        frame = await asyncio.wait_for(self.ws.receive(), self.timeout)
        if frame.type is aiohttp.WSMsgType.TEXT:
            return decode_signaling(frame.data)
        code = int(frame.data) if frame.type is aiohttp.WSMsgType.CLOSE else self.ws.close_code
        raise ClosedError(code, str(frame.extra or ""))

    async def expect(self, kind: type[_M]) -> _M:
        message = await self.recv()
        if not isinstance(message, kind):
            raise AssertionError(f"expected {kind.type}, got {message!r}")
        return message

    async def closed(self) -> tuple[int | None, str]:
        """Wait for the relay to close this socket; skip any messages before that."""
        while True:
            frame = await asyncio.wait_for(self.ws.receive(), self.timeout)
            if frame.type is aiohttp.WSMsgType.CLOSE:
                # The frame's code: ws.close_code may read 1006 when the relay
                # drops the TCP connection before our close reply got out.
                return int(frame.data), str(frame.extra or "")
            if frame.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return self.ws.close_code, str(frame.extra or "")
            if frame.type is aiohttp.WSMsgType.ERROR:
                return self.ws.close_code, str(frame.data)

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> SignalingClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def fast_config(data_dir: Path, **overrides: Any) -> RelayConfig:
    """A loopback config on a free port with timers short enough for tests."""
    values: dict[str, Any] = {
        "port": 0,
        "data_dir": data_dir,
        "tick_interval_s": 0.05,
        "allow_timeout_s": 5.0,
        "resume_grace_s": 2.0,
        "heartbeat_s": 5.0,
    }
    values.update(overrides)
    return load_config(env={}, **values)


def self_signed_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throw-away certificate and key for ``host`` (openssl), for TLS tests."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
