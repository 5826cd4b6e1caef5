"""Websocket frames written by hand over a raw TCP stream (RFC 6455 section 5), for fuzzing.

Nothing here relies on a websocket library: frames are built byte by byte so that
they can be wrong on purpose (false length fields, reserved opcodes and RSV bits,
invalid UTF-8, broken fragmentation, odd close codes, unmasked frames) and sent
whole, in pieces or slowly. ``RawWebSocket.outcome`` then reads whatever the relay
answers until it closes, within a deadline: the fuzz tests' one question is
"did this socket get an answer or a close in time?".

``random_frames`` draws one hostile frame sequence from a seeded ``random.Random``
so a failure can be replayed from its seed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import random
import struct
import time
from collections.abc import Callable

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Outcome",
    "RawSockets",
    "RawWebSocket",
    "Step",
    "close_payload",
    "frame",
    "random_frames",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    length: int | None = None,
    long_form: bool = False,
) -> bytes:
    """One frame. ``length`` overrides the declared payload length (a lie if it differs);
    ``long_form`` spells a short length in the 64-bit form (legal but unusual)."""
    declared = len(payload) if length is None else length
    head = bytearray([(0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)])
    mask_bit = 0x80 if mask else 0
    if declared < 126 and not long_form:
        head.append(mask_bit | declared)
    elif declared < 0x10000 and not long_form:
        head.append(mask_bit | 126)
        head += struct.pack("!H", declared)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", declared)
    if mask:
        key = os.urandom(4)
        head += key
        if payload:
            stream = (key * (len(payload) // 4 + 1))[: len(payload)]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(
                len(payload), "big"
            )
    return bytes(head) + payload


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code & 0xFFFF) + reason


@dataclasses.dataclass
class Outcome:
    """What the relay did with one socket, seen from the client."""

    texts: list[str] = dataclasses.field(default_factory=list)
    close_code: int | None = None
    """From the relay's close frame (None: no close frame came)."""
    eof: bool = False
    """The relay closed the TCP connection."""
    seconds: float = 0.0

    @property
    def answered(self) -> bool:
        return bool(self.texts) or self.close_code is not None or self.eof

    def errors(self) -> list[str]:
        codes = []
        for text in self.texts:
            try:
                message = json.loads(text)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("type") == "error":
                codes.append(str(message.get("code")))
        return codes


class RawWebSocket:
    """A client websocket on a bare asyncio stream."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(
        cls, host: str, port: int, path: str, *, local_host: str | None = None, timeout: float = 5.0
    ) -> RawWebSocket:
        local = (local_host, 0) if local_host else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=local), timeout
        )
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(f"no websocket upgrade: {lines[0]}")
        expected = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if headers.get("sec-websocket-accept") != expected:
            writer.close()
            raise ConnectionError("bad Sec-WebSocket-Accept")
        return cls(reader, writer)

    async def send(self, data: bytes, *, pieces: int = 1, delay: float = 0.0) -> bool:
        """Write ``data`` in ``pieces`` chunks, ``delay`` seconds apart; False if the relay hung up."""
        step = max(1, -(-len(data) // max(1, pieces)))
        try:
            for start in range(0, len(data), step):
                self.writer.write(data[start : start + step])
                await self.writer.drain()
                if delay:
                    await asyncio.sleep(delay)
        except (ConnectionError, OSError):
            return False
        return True

    async def send_text(self, text: str) -> bool:
        return await self.send(frame(OP_TEXT, text.encode()))

    async def read_frame(self) -> tuple[int, bytes, bool] | None:
        """(opcode, payload, fin) of the relay's next frame, or None at end of stream."""
        try:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            if b1 & 0x80:
                await self.reader.readexactly(4)  # a server must not mask; tolerate it
            payload = await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return None
        return b0 & 0xF, payload, bool(b0 & 0x80)

    async def outcome(self, deadline_s: float, *, until_close: bool = True) -> Outcome:
        """Read until the relay closes (or, with ``until_close=False``, until its first text)."""
        result = Outcome()
        start = time.monotonic()
        try:
            async with asyncio.timeout(deadline_s):
                while True:
                    got = await self.read_frame()
                    if got is None:
                        result.eof = True
                        break
                    opcode, payload, _ = got
                    if opcode == OP_TEXT:
                        result.texts.append(payload.decode("utf-8", "replace"))
                        if not until_close:
                            break
                    elif opcode == OP_CLOSE:
                        result.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                        await self.send(frame(OP_CLOSE, payload[:2]))
                    elif opcode == OP_PING:
                        await self.send(frame(OP_PONG, payload))
        except TimeoutError:
            pass
        result.seconds = time.monotonic() - start
        return result

    async def close(self) -> None:
        """Drop the connection (no close handshake: hostile clients do not bother)."""
        self.writer.transport.abort()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


class RawSockets:
    """Opens raw websockets to one relay and closes every one of them at the end."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._open: list[RawWebSocket] = []

    async def open(self, path: str = "/ws/agent", *, local_host: str | None = None) -> RawWebSocket:
        ws = await RawWebSocket.connect(self.host, self.port, path, local_host=local_host)
        self._open.append(ws)
        return ws

    async def close_all(self) -> None:
        for ws in self._open:
            await ws.close()
        self._open.clear()


@dataclasses.dataclass(frozen=True)
class Step:
    """Bytes to send, how (pieces, delay) and what this step is, for failure messages."""

    what: str
    data: bytes
    pieces: int = 1
    delay: float = 0.0


_RESERVED_OPCODES = (0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF)
_ODD_CLOSE_CODES = (None, 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 3000, 4999, 5000, 65535)
_BAD_UTF8 = (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b'{"type":"\xe3\x81', b"\x80abc")
_TEXTS = (
    '{"type":"register","protocol_version":1,"client_version":"fuzz","consent_accepted":true}',
    '{"type":"claim","code":"0000"}',
    '{"type":"auth","protocol_version":1,"token":"nope"}',
    '{"type":"bye"}',
    '{"type":"decision","allowed":true}',
    "{",
    "[]",
    "null",
    '{"type":"register"}',
)


def random_frames(rng: random.Random, *, slow_delay: float = 0.05) -> list[Step]:
    """One hostile sequence: a few frames, each broken in one of many ways."""
    steps: list[Step] = []
    for _ in range(rng.randint(1, 4)):
        kind: Callable[[random.Random, float], Step] = rng.choice(_KINDS)
        steps.append(kind(rng, slow_delay))
    return steps


def _text(rng: random.Random) -> bytes:
    return rng.choice(_TEXTS).encode()


def _invalid_utf8(rng: random.Random, _: float) -> Step:
    data = _text(rng)
    cut = rng.randint(0, len(data))
    return Step("invalid UTF-8 text", frame(OP_TEXT, data[:cut] + rng.choice(_BAD_UTF8) + data[cut:]))


def _false_length(rng: random.Random, _: float) -> Step:
    data = _text(rng)
    declared = rng.choice([len(data) + rng.randint(1, 40), max(0, len(data) - rng.randint(1, 5)), 2**63 + 5])
    return Step(f"length says {declared}, {len(data)} sent", frame(OP_TEXT, data, length=declared))


def _long_form(rng: random.Random, _: float) -> Step:
    return Step("64-bit length for a short frame", frame(OP_TEXT, _text(rng), long_form=True))


def _reserved_opcode(rng: random.Random, _: float) -> Step:
    opcode = rng.choice(_RESERVED_OPCODES)
    return Step(f"reserved opcode {opcode:#x}", frame(opcode, _text(rng)))


def _rsv_bits(rng: random.Random, _: float) -> Step:
    rsv = rng.randint(1, 7)
    return Step(f"RSV bits {rsv:03b}", frame(rng.choice([OP_TEXT, OP_PING, OP_CLOSE]), _text(rng), rsv=rsv))


def _fragments(rng: random.Random, _: float) -> Step:
    data = _text(rng)
    cut = rng.randint(1, max(1, len(data) - 1))
    parts = [frame(OP_TEXT, data[:cut], fin=False)]
    if rng.random() < 0.5:
        parts.append(frame(OP_PING, b"mid"))  # allowed between fragments
    if rng.random() < 0.3:
        parts.append(frame(OP_TEXT, b"{}", fin=True))  # not allowed: a new message mid-fragments
    if rng.random() < 0.3:
        parts.append(frame(OP_PING, b"p", fin=False))  # not allowed: a fragmented control frame
    parts.append(frame(OP_CONTINUATION, data[cut:], fin=rng.random() < 0.8))
    return Step("fragmented text with interleaved frames", b"".join(parts))


def _stray_continuation(rng: random.Random, _: float) -> Step:
    return Step("continuation without a start", frame(OP_CONTINUATION, _text(rng), fin=rng.random() < 0.5))


def _odd_close(rng: random.Random, _: float) -> Step:
    code = rng.choice(_ODD_CLOSE_CODES)
    reason = rng.choice([b"", b"bye", b"\xff\xfe", b"x" * 130])
    payload = close_payload(code, reason) if rng.random() < 0.9 else b"\x03"
    return Step(f"close code {code} reason {len(reason)} bytes", frame(OP_CLOSE, payload))


def _big_control(rng: random.Random, _: float) -> Step:
    opcode = rng.choice([OP_PING, OP_PONG])
    return Step("control frame longer than 125 bytes", frame(opcode, b"p" * rng.randint(126, 300)))


def _binary(rng: random.Random, _: float) -> Step:
    return Step("binary frame", frame(OP_BINARY, rng.randbytes(rng.randint(0, 64)) + _text(rng)))


def _unmasked(rng: random.Random, _: float) -> Step:
    return Step("unmasked client frame", frame(OP_TEXT, _text(rng), mask=False))


def _slow(rng: random.Random, slow_delay: float) -> Step:
    data = frame(OP_TEXT, _text(rng))
    return Step("one frame, a few bytes at a time", data, pieces=rng.randint(2, 6), delay=slow_delay)


def _partial(rng: random.Random, _: float) -> Step:
    data = frame(OP_TEXT, _text(rng))
    return Step("half a frame, then silence", data[: rng.randint(1, len(data) - 1)])


def _garbage(rng: random.Random, _: float) -> Step:
    return Step("random bytes", rng.randbytes(rng.randint(1, 40)))


def _valid(rng: random.Random, _: float) -> Step:
    return Step("a well-formed text frame", frame(OP_TEXT, _text(rng)))


_KINDS: tuple[Callable[[random.Random, float], Step], ...] = (
    _invalid_utf8,
    _false_length,
    _long_form,
    _reserved_opcode,
    _rsv_bits,
    _fragments,
    _stray_continuation,
    _odd_close,
    _big_control,
    _binary,
    _unmasked,
    _slow,
    _partial,
    _garbage,
    _valid,
)
