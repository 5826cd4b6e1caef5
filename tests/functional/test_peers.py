"""Agent and operator peers connected directly (no relay): real aiortc on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import zlib
from collections.abc import AsyncIterator

import numpy as np
import pytest
from aiortc import VideoStreamTrack
from av import VideoFrame

from agent.peer import AgentPeer
from client_core.rtc import IceAddressMode, ice_host_addresses
from operator_console.frames import FrameSink
from operator_console.peer import OperatorPeer
from protocol import (
    Cursor,
    CursorShape,
    KeyGuide,
    KeyGuideClear,
    MonitorInfo,
    Monitors,
    Pointer,
    SharingState,
)


class SolidTrack(VideoStreamTrack):
    """A 320x240 picture: left half red, right half blue."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        image = np.zeros((240, 320, 3), np.uint8)
        image[:, :160] = (255, 0, 0)
        image[:, 160:] = (0, 0, 255)
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Pair:
    def __init__(self) -> None:
        self.received: list[Pointer | KeyGuide | KeyGuideClear] = []
        self.from_agent: list[SharingState | Monitors | object] = []
        self.cursors: list[Cursor | CursorShape] = []
        self.agent = AgentPeer(
            ice_servers=(), track=SolidTrack(), on_guidance=self.received.append, host_addresses="loopback"
        )
        self.operator = OperatorPeer(
            ice_servers=(),
            sink=FrameSink(),
            on_agent_message=self.from_agent.append,
            host_addresses="loopback",
            on_cursor=self.cursors.append,
        )

    async def connect(self) -> None:
        offer = await self.agent.create_offer()
        answer = await self.operator.accept_offer(offer)
        await self.agent.apply_answer(answer)
        await asyncio.wait_for(self.operator.channel_open.wait(), 20)
        await asyncio.wait_for(self.agent.connected.wait(), 20)


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    p = Pair()
    try:
        await p.connect()
        yield p
    finally:
        await p.agent.close()
        await p.operator.close()


async def wait_until(predicate: object, timeout: float = 10.0) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def test_loopback_mode_offers_only_127_0_0_1() -> None:
    import aioice.ice

    with ice_host_addresses("loopback"):
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)


async def test_loopback_gathering_leaves_other_peers_as_shipped() -> None:
    """One peer gathering on loopback does not change what another gathers meanwhile."""
    import aioice.ice

    seen: dict[str, list[str]] = {}
    started = asyncio.Event()

    async def gather(name: str, mode: IceAddressMode) -> None:
        with ice_host_addresses(mode):
            if mode == "loopback":
                started.set()
            else:
                await started.wait()
            await asyncio.sleep(0)
            seen[name] = aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)

    await asyncio.gather(gather("loopback", "loopback"), gather("stock", "auto"))
    assert seen["loopback"] == ["127.0.0.1"]
    assert "127.0.0.1" not in seen["stock"]


async def test_offer_uses_only_loopback_candidates(pair: Pair) -> None:
    sdp = pair.agent.pc.localDescription.sdp
    candidates = [line for line in sdp.splitlines() if line.startswith("a=candidate:")]
    assert candidates
    assert all(" 127.0.0.1 " in line for line in candidates)
    assert "a=sendonly" in sdp


async def test_video_arrives(pair: Pair) -> None:
    await wait_until(lambda: pair.operator.sink.frames_received >= 3)
    image = pair.operator.sink.latest()
    assert image is not None
    assert image.shape == (240, 320, 3)
    assert image[120, 40, 0] > 200
    assert image[120, 40, 2] < 60
    assert image[120, 280, 2] > 200
    assert image[120, 280, 0] < 60


async def test_guidance_reaches_agent_in_order(pair: Pair) -> None:
    sent: list[Pointer | KeyGuide | KeyGuideClear] = [
        Pointer(x=0.25, y=0.5, monitor=0),
        Pointer(action="click", x=0.75, y=0.125, monitor=1),
        KeyGuide(keys=(("Ctrl", "C"),), caption="コピー"),
        KeyGuideClear(),
    ]
    for message in sent:
        assert pair.operator.send(message)
    await wait_until(lambda: len(pair.received) == len(sent))
    assert pair.received == sent


async def test_agent_messages_and_ping_reach_operator(pair: Pair) -> None:
    monitors = Monitors(
        monitors=(MonitorInfo(index=0, x=0, y=0, width=1920, height=1080, primary=True),), active=0
    )
    assert pair.agent.send(monitors)
    assert pair.agent.send(SharingState(paused=True))
    assert pair.operator.ping()
    await wait_until(lambda: len(pair.from_agent) == 2 and pair.operator.rtt_ms is not None)
    assert pair.from_agent == [monitors, SharingState(paused=True)]
    assert pair.operator.rtt_ms is not None
    assert 0 < pair.operator.rtt_ms < 1000
    stats = await pair.operator.stats()
    assert stats.rtt_ms == pair.operator.rtt_ms


async def test_hostile_guidance_is_rejected_and_nothing_happens(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    """Control requests, garbage, binary and huge payloads: logged, counted, never acted on."""
    channel = pair.operator._channel
    assert channel is not None
    hostile: list[str | bytes] = [
        json.dumps({"type": "click", "x": 0.5, "y": 0.5}),
        json.dumps({"type": "keypress", "key": "Enter"}),
        json.dumps({"type": "mouse_move", "x": 10, "y": 10}),
        json.dumps({"type": "exec", "command": "rm -rf /"}),
        json.dumps({"type": "type_text", "text": "password"}),
        json.dumps({"type": "pointer", "x": 5, "y": -1}),
        json.dumps({"type": "key_guide", "keys": [["Ctrl", "Alt", "Delete", "Launch"]]}),
        json.dumps({"type": "sharing_state", "paused": True}),  # an agent->operator message
        json.dumps({"type": "cursor", "x": 0.5, "y": 0.5}),  # another one
        "not json at all {",
        b"\x00\x01binary",
        json.dumps({"type": "key_guide", "keys": [["A"]], "caption": "x" * 70_000}),
    ]
    with caplog.at_level(logging.WARNING, logger="agent.peer"):
        for payload in hostile:
            channel.send(payload)
        pair.operator.send(Pointer(x=0.5, y=0.5))  # a valid one after the flood still works
        await wait_until(lambda: pair.agent.guidance_rejected == len(hostile) and len(pair.received) == 1)
    assert pair.received == [Pointer(x=0.5, y=0.5)]
    assert pair.agent.guidance_accepted == 1
    # Every rejection is counted; the log shows the first ten (then every 100th).
    assert sum("rejected" in r.getMessage() for r in caplog.records) == 10
    assert pair.agent.pc.connectionState == "connected"


async def test_bad_cursor_messages_from_the_agent_are_rejected(pair: Pair) -> None:
    """A hostile agent cannot make the console inflate, allocate or draw anything odd."""
    channel = pair.agent._channel
    assert channel is not None
    bomb = base64.b64encode(zlib.compress(bytes(5_000_000), 9)).decode()
    hostile = [
        json.dumps({"type": "cursor_shape", "id": 1, "width": 64, "height": 64, "rgba": bomb}),
        json.dumps({"type": "cursor_shape", "id": 1, "width": 9999, "height": 1, "rgba": "AAAA"}),
        json.dumps({"type": "cursor", "x": 2.0, "y": 0.5}),
    ]
    for payload in hostile:
        channel.send(payload)
    good = CursorShape.from_pixels(id=1, width=1, height=1, pixels=bytes(4))
    pair.agent.send(good)
    pair.agent.send(Cursor(x=0.5, y=0.5, shape=1))
    await wait_until(lambda: len(pair.cursors) == 2)
    assert pair.cursors == [good, Cursor(x=0.5, y=0.5, shape=1)]
    assert pair.operator.rejected_messages == len(hostile)
    assert pair.operator.pc.connectionState == "connected"


async def test_flood_is_rate_limited(pair: Pair) -> None:
    for i in range(600):
        pair.operator.send(Pointer(x=(i % 100) / 100, y=0.5))
    await wait_until(lambda: pair.agent.guidance_accepted + pair.agent.guidance_rejected == 600, 20)
    assert pair.agent.guidance_rejected > 0
    assert pair.agent.guidance_accepted < 600
