"""Fuzzing a real relay, every run: websocket frames, JSON and HTTP, next to a real session.

Three fuzzers, each a few seconds (``MADOGUCHI_FUZZ_SECONDS`` per fuzzer for longer
runs, e.g. ``MADOGUCHI_FUZZ_SECONDS=120 pytest tests/functional/test_relay_fuzz.py``;
``MADOGUCHI_FUZZ_SEED`` replays a frame/HTTP run):

* frames written by hand over raw sockets (:mod:`tests.functional.wsfuzz`);
* JSON messages from hypothesis, lone surrogates and deep nesting included, sent
  in well-formed frames by agents and by a logged-in operator;
* HTTP requests to ``/api/*`` and elsewhere over raw TCP, and connections that never
  finish a request.

Each proves the same two things: every socket gets an answer or a close within a
deadline, and a legitimate session (agent registered, operator claimed, customer
allowed, signaling flowing) on the same relay is untouched. Hostile clients use
127.0.0.2, the session 127.0.0.1, as they would be different machines. The relay
must also log no error of its own (a traceback in a handler is a bug found).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol as p
from protocol.messages import SIGNALING_TYPES
from relay.server import RunningRelay, running_relay
from relay.testing import fast_config, login

from .relay_session import PASSWORD, check_exchange, in_session
from .wsfuzz import Outcome, RawSockets, random_frames

FUZZ_SECONDS = float(os.environ.get("MADOGUCHI_FUZZ_SECONDS", "3"))
SEED = int(os.environ.get("MADOGUCHI_FUZZ_SEED", str(random.SystemRandom().randrange(2**32))))
HOSTILE = "127.0.0.2"
DEADLINE = 4.0
"""Seconds within which every hostile socket must get an answer or a close: the relay's
timers below are well inside it."""
CONCURRENCY = 12


@pytest.fixture
async def relay(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[RunningRelay]:
    config = fast_config(
        tmp_path,
        hello_timeout_s=0.5,
        http_idle_timeout_s=1.0,
        http_body_timeout_s=1.0,
        resume_grace_s=0.0,  # hostile agents come and go by the hundred: free their codes at once
        registrations_per_ip=100_000,
        failed_claims_per_operator=100_000,  # keep the fuzzing operator's claims reaching the codes
        failed_claims_per_ip=100_000,
        failed_joins_per_ip=100_000,
    )
    caplog.set_level(logging.WARNING)
    async with running_relay(config) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        running.add_operator("fuzzer", PASSWORD, "Fuzz", "Fuzz Inc.")
        yield running
    errors = [
        f"{r.name}: {r.getMessage()}"
        for when in ("setup", "call", "teardown")
        for r in caplog.get_records(when)
        if r.levelno >= logging.ERROR and r.name.split(".")[0] in ("relay", "aiohttp", "asyncio")
    ]
    assert errors == [], errors


async def settle(relay: RunningRelay, connections: int) -> None:
    """Wait until the relay holds only the legitimate sockets: nothing left behind."""
    for _ in range(100):
        if relay.state.registry.stats().connections == connections:
            return
        await asyncio.sleep(0.05)
    assert relay.state.registry.stats().connections == connections


# --- frames ------------------------------------------------------------------


async def test_hostile_frames(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent, op, _ = await in_session(http, relay)
    rng = random.Random(SEED)
    sockets = RawSockets("127.0.0.1", relay.port)
    tried = 0
    failures: list[str] = []

    async def one(case: int) -> None:
        steps = random_frames(rng, slow_delay=0.02)
        path = "/ws/agent" if rng.random() < 0.6 else "/ws/operator"
        ws = await sockets.open(path, local_host=HOSTILE)
        for step in steps:
            if not await ws.send(step.data, pieces=step.pieces, delay=step.delay):
                break
        outcome: Outcome = await ws.outcome(DEADLINE)
        if not outcome.answered:
            failures.append(f"seed {SEED} case {case} {path}: {[s.what for s in steps]} -> no answer")
        await ws.close()

    deadline = time.monotonic() + FUZZ_SECONDS
    try:
        while time.monotonic() < deadline:
            await asyncio.gather(*(one(tried + i) for i in range(CONCURRENCY)))
            tried += CONCURRENCY
            await check_exchange(agent, op, f"after {tried} hostile sockets")
    finally:
        await sockets.close_all()
    assert failures == []
    await settle(relay, 2)
    await check_exchange(agent, op, "at the end")
    assert tried >= CONCURRENCY


# --- JSON ----------------------------------------------------------------------

# st.characters() never yields surrogates (category Cs); these are drawn on purpose.
lone_surrogates = st.integers(0xD800, 0xDFFF).map(chr)
texts = st.text(alphabet=st.characters() | lone_surrogates, max_size=24)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=12,
)
FIELDS = ["code", "sdp", "candidate", "token", "resume_token", "client_version", "locale", "mode", "x"]


_HELLO = {"protocol_version": 1, "client_version": "f", "consent_accepted": True}
TEMPLATES: list[dict[str, Any]] = [
    {"type": "register", **_HELLO, "locale": "ja"},
    {"type": "join", **_HELLO, "code": "123456"},
    {"type": "resume", "protocol_version": 1, "resume_token": "t"},
    {"type": "decision", "allowed": True},
    {"type": "claim", "code": "1234"},
    {"type": "issue_code"},
    {"type": "offer", "sdp": "v=0"},
    {"type": "answer", "sdp": "v=0"},
    {"type": "ice", "candidate": "", "sdp_mid": "0", "sdp_mline_index": 0},
    {"type": "bye", "reason": "normal"},
    {"type": "auth", "protocol_version": 1, "token": "t"},
    {"type": "ended", "reason": "normal", "by": "agent"},
]
"""Valid client messages (and one the relay sends), so that mutations reach deep paths."""


@st.composite
def messages(draw: st.DrawFn) -> str:
    """One text frame: a valid message with a few fields changed, sometimes anything at all."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        depth = draw(st.integers(1, 3000))
        return '{"type":"register","x":' + "[" * depth + "]" * depth + "}"
    if kind == 1:
        return json.dumps(draw(json_values))
    obj = dict(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from([*obj, *FIELDS]))
        if draw(st.integers(0, 5)) == 0:
            obj.pop(field, None)
        else:
            obj[field] = draw(texts if draw(st.booleans()) else json_values)
    if draw(st.integers(0, 9)) == 0:
        obj["type"] = draw(st.sampled_from([*sorted(SIGNALING_TYPES), "\ud800", "ping", ""]))
    return json.dumps(obj)  # ensure_ascii: lone surrogates travel as \\udXXX escapes


class JsonTarget:
    def __init__(self, relay: RunningRelay, http: aiohttp.ClientSession, token: str) -> None:
        self.relay = relay
        self.http = http
        self.token = token
        self.sent = 0

    async def answer(self, role: str, text: str) -> str | None:
        """Send ``text`` as the first message (agent) or after auth (operator); the first reply."""
        ws = await self.http.ws_connect(self.relay.ws_url("agent" if role == "agent" else "operator"))
        try:
            if role == "operator":
                await ws.send_str(p.encode(p.Auth(protocol_version=p.PROTOCOL_VERSION, token=self.token)))
                first = await ws.receive(timeout=DEADLINE)
                assert first.type is aiohttp.WSMsgType.TEXT, first
            await ws.send_str(text)
            self.sent += 1
            reply = await ws.receive(timeout=DEADLINE)
            if reply.type is aiohttp.WSMsgType.TEXT:
                p.decode_signaling(reply.data)  # whatever the relay says is a valid message
                return str(reply.data)
            assert reply.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), reply
            return None
        finally:
            await ws.close()


@pytest.fixture
async def json_target(relay: RunningRelay) -> AsyncIterator[JsonTarget]:
    connector = aiohttp.TCPConnector(local_addr=(HOSTILE, 0))
    async with aiohttp.ClientSession(connector=connector) as hostile:
        yield JsonTarget(relay, hostile, await login(hostile, relay, "fuzzer", PASSWORD))


@pytest.fixture
async def session(relay: RunningRelay, http: aiohttp.ClientSession) -> AsyncIterator[tuple[Any, Any]]:
    agent, op, _ = await in_session(http, relay)
    yield agent, op
    await check_exchange(agent, op, "after the JSON fuzz")
    await settle(relay, 2)


@settings(
    max_examples=max(1, int(60 * FUZZ_SECONDS)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(role=st.sampled_from(["agent", "operator"]), text=messages())
async def test_hostile_json(json_target: JsonTarget, session: tuple[Any, Any], role: str, text: str) -> None:
    await json_target.answer(role, text)


# --- HTTP ----------------------------------------------------------------------

_PATHS = (
    "/api/login",
    "/api/terms",
    "/api/terms?lang=en",
    "/api/terms?lang=xx",
    "/api/",
    "/api/login/..",
    "/healthz",
    "/metrics",
    "/ws/agent",
    "/ws/operator",
    "/nope",
    "/%ff%fe",
    "/" + "a" * 9000,
)
_METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "BREW", "G\x00T")
_BODIES = (
    b"",
    b"{}",
    b"[]",
    b"null",
    b'{"username":"hanako"}',
    b'{"username":"\\ud800","password":"x"}',
    b'{"username":"a","password":"' + b"[" * 50 + b'"}',
    b"\xff\xfe",
    b"{" * 5000,
    b'{"username":1}',
)


def _http_request(rng: random.Random) -> tuple[str, bytes]:
    """A request that is wrong in zero to three ways; what it is, and its bytes."""
    method, path, body = rng.choice(_METHODS), rng.choice(_PATHS), rng.choice(_BODIES)
    headers = ["Host: 127.0.0.1", "Content-Type: application/json"]
    framing = rng.random()
    if framing < 0.1:
        headers.append("Transfer-Encoding: chunked")
        body = f"{rng.choice(['5', 'zz', 'ffffffff'])}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    elif framing < 0.2:
        headers.append(f"Content-Length: {rng.choice(['-1', 'x', '99999999999999999999', '1, 2'])}")
    elif framing < 0.35:
        headers.append(f"Content-Length: {len(body) + rng.randint(1, 50)}")  # promises more than it sends
    else:
        headers.append(f"Content-Length: {len(body)}")
    if rng.random() < 0.1:
        headers.append("X-Long: " + "h" * rng.choice([100, 9000]))
    if rng.random() < 0.1:
        headers.extend(f"X-{i}: {i}" for i in range(rng.choice([10, 200])))
    if rng.random() < 0.1:
        headers.append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13")
    version = rng.choice(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x"])
    head = f"{method} {path} {version}\r\n" + "\r\n".join(headers) + "\r\n\r\n"
    data = head.encode("latin-1") + body
    what = f"{method} {path[:40]} {version} framing={framing:.2f} body={body[:30]!r}"
    if rng.random() < 0.15:  # never finishes: a prefix of it, then silence
        cut = rng.randint(0, len(data) - 1)
        return f"{what} cut at {cut}", data[:cut]
    return what, data


async def _http_outcome(port: int, data: bytes, slow: bool) -> tuple[bytes, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(HOSTILE, 0))
    start = time.monotonic()
    received = b""
    try:
        with contextlib.suppress(ConnectionError, OSError):
            if slow:
                for i in range(0, len(data), 7):
                    writer.write(data[i : i + 7])
                    await writer.drain()
                    await asyncio.sleep(0.01)
            else:
                writer.write(data)
                await writer.drain()
        async with asyncio.timeout(DEADLINE):
            while chunk := await reader.read(65536):
                received += chunk
                if b"\r\n\r\n" in received and not received.startswith(b"HTTP/1.1 101"):
                    break  # an answer
    except (ConnectionError, OSError):
        pass
    except TimeoutError:
        received += b"<no answer, no close>"
    finally:
        writer.transport.abort()
    return received, time.monotonic() - start


async def test_hostile_http(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    agent, op, _ = await in_session(http, relay)
    rng = random.Random(SEED)
    failures: list[str] = []
    tried = 0

    async def one() -> None:
        what, data = _http_request(rng)
        received, _ = await _http_outcome(relay.port, data, slow=rng.random() < 0.1)
        if received.endswith(b"<no answer, no close>"):
            failures.append(f"seed {SEED}: {what}: no answer, no close")
        elif received.startswith(b"HTTP/") and received[9:10] == b"5":
            failures.append(f"seed {SEED}: {what}: {received[:80]!r}")

    deadline = time.monotonic() + FUZZ_SECONDS
    while time.monotonic() < deadline:
        await asyncio.gather(*(one() for _ in range(CONCURRENCY)))
        tried += CONCURRENCY
        await check_exchange(agent, op, f"after {tried} hostile requests")
    assert failures == []
    await settle(relay, 2)
    async with http.get(f"{relay.url}/healthz") as r:
        assert r.status == 200
