"""Oversized messages are refused from the frame header, with ``message_too_large`` and close 1009."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.effects import Effect
from relay.server import RunningRelay, running_relay
from relay.testing import SignalingClient, fast_config

from .relay_session import PASSWORD, check_exchange, in_session
from .wsfuzz import OP_CONTINUATION, OP_TEXT, RawSockets, frame

LIMIT = 64 * 1024
REGISTER = {"type": "register", "protocol_version": 1, "client_version": "t", "consent_accepted": True}


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    async with running_relay(fast_config(tmp_path)) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "ACME")
        yield running


@pytest.fixture
async def raw(relay: RunningRelay) -> AsyncIterator[RawSockets]:
    sockets = RawSockets("127.0.0.1", relay.port)
    yield sockets
    await sockets.close_all()


def padded_register(size: int) -> bytes:
    """A valid register message of exactly ``size`` bytes (an unknown field pads it)."""
    base = json.dumps({**REGISTER, "pad": ""}, separators=(",", ":")).encode()
    data = json.dumps({**REGISTER, "pad": "x" * (size - len(base))}, separators=(",", ":")).encode()
    assert len(data) == size
    return data


async def test_a_message_of_exactly_the_limit_is_accepted(raw: RawSockets) -> None:
    ws = await raw.open()
    assert await ws.send(frame(OP_TEXT, padded_register(LIMIT)))
    outcome = await ws.outcome(5, until_close=False)
    assert json.loads(outcome.texts[0])["type"] == "registered"


@pytest.mark.parametrize("declared", [LIMIT + 1, 200 * 1024, 1024 * 1024 + 1, 2**40])
async def test_an_oversized_frame_is_refused_from_its_header(
    relay: RunningRelay, http: aiohttp.ClientSession, raw: RawSockets, declared: int
) -> None:
    agent, op, _ = await in_session(http, relay)
    ws = await raw.open()
    # the header announces the size; only 100 bytes follow and the relay must not wait for more
    assert await ws.send(frame(OP_TEXT, padded_register(LIMIT + 1)[:100], length=declared))
    outcome = await ws.outcome(3)
    assert outcome.errors() == ["message_too_large"], outcome
    assert outcome.close_code == 1009
    assert json.loads(outcome.texts[0])["fatal"] is True
    assert [r.detail["error"] for r in relay.audit_rows("protocol_error")] == ["message_too_large"]
    await check_exchange(agent, op, "after an oversized frame")


async def test_fragments_that_add_up_to_too_much_are_refused(raw: RawSockets) -> None:
    ws = await raw.open()
    data = padded_register(LIMIT + 1)
    assert await ws.send(frame(OP_TEXT, data[: LIMIT // 2], fin=False))
    assert await ws.send(frame(OP_CONTINUATION, data[LIMIT // 2 : LIMIT // 2 + 10], length=LIMIT // 2 + 1))
    outcome = await ws.outcome(3)
    assert outcome.errors() == ["message_too_large"]
    assert outcome.close_code == 1009


async def test_a_compressed_bomb_is_refused(relay: RunningRelay, http: aiohttp.ClientSession) -> None:
    # permessage-deflate: 2 MiB of JSON squeezed into a couple of KiB on the wire
    ws = await http.ws_connect(relay.ws_url("agent"), compress=15)
    bomb = json.dumps({**REGISTER, "pad": " " * (2 * 1024 * 1024)})
    assert len(zlib.compress(bomb.encode())) < 16 * 1024
    await ws.send_str(bomb)
    client = SignalingClient(ws, 5.0)
    error = await client.expect(p.Error)
    assert error.code is p.ErrorCode.MESSAGE_TOO_LARGE
    assert (await client.closed())[0] == 1009


async def test_broken_framing_is_closed_by_the_websocket_layer_and_audited(
    relay: RunningRelay, http: aiohttp.ClientSession, raw: RawSockets
) -> None:
    agent, op, _ = await in_session(http, relay)
    ws = await raw.open()
    assert await ws.send(frame(OP_TEXT, b'{"type":"\xff"}'))
    outcome = await ws.outcome(3)
    assert outcome.close_code == 1007  # RFC 6455: invalid UTF-8 in a text frame
    assert outcome.texts == []
    assert [r.detail["error"] for r in relay.audit_rows("protocol_error")] == ["bad_message"]
    await check_exchange(agent, op, "after broken framing")


async def test_a_relay_bug_answers_internal_error_and_closes_1011(
    relay: RunningRelay,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent, op, _ = await in_session(http, relay)
    registry = relay.state.registry
    real = registry.received

    def broken(conn_id: str, message: p.SignalingMessage, now: float) -> list[Effect]:
        if isinstance(message, p.Register) and message.client_version == "trigger":
            raise RuntimeError("a bug")
        return real(conn_id, message, now)

    monkeypatch.setattr(registry, "received", broken)
    victim = await SignalingClient.agent(http, relay)
    await victim.send(p.Register(protocol_version=1, client_version="trigger", consent_accepted=True))
    error = await victim.expect(p.Error)
    assert error.code is p.ErrorCode.INTERNAL_ERROR
    assert error.fatal
    assert (await victim.closed())[0] == 1011
    assert any("relay bug" in r.getMessage() for r in caplog.records)
    await check_exchange(agent, op, "after a bug on another socket")
