"""Whole sessions end to end: real relay, real Xvfb + mss capture, real aiortc peers.

The agent side is :class:`agent.session.AgentSession` capturing a private Xvfb
display that shows the deterministic ``picture`` scene; the operator side is
:class:`operator_console.client.OperatorClient`. Everything talks over 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator

import numpy as np
import pytest

from agent.session import OperatorAsking, SystemInfoSent
from agent.sysinfo import KEYS
from operator_console.client import (
    ClaimAccepted,
    CustomerMessage,
    OperatorClient,
    OperatorEvent,
    SessionEnded,
    ViewingStarted,
)
from protocol import EndReason, KeyGuide, KeyGuideClear, Pointer, SysInfoReport
from relay.server import RunningRelay, running_relay
from testbed.customer import Customer
from testbed.quality import psnr_luma
from testbed.scene import SceneProcess, render_picture
from testbed.xvfb import VirtualDisplay

WIDTH, HEIGHT = 960, 540
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def picture_display() -> Iterator[str]:
    """A private display showing the ``picture`` scene; DISPLAY points at it meanwhile."""
    old = os.environ.get("DISPLAY")
    with VirtualDisplay(screens=[(WIDTH, HEIGHT)]) as display:
        os.environ["DISPLAY"] = display.name
        try:
            with SceneProcess(display.name, "picture", geometry=(0, 0, WIDTH, HEIGHT)):
                yield display.name
        finally:
            if old is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = old


@pytest.fixture
async def relay(picture_display: str) -> AsyncIterator[RunningRelay]:
    async with running_relay(allow_timeout_s=5.0) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        yield running


async def expect(client: OperatorClient, kind: type, timeout: float = 15) -> OperatorEvent:
    while True:
        event = await client.next_event(timeout)
        if isinstance(event, kind):
            return event


async def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def parties(relay: RunningRelay) -> AsyncIterator[tuple[Customer, OperatorClient]]:
    customer = Customer(relay.url, display=os.environ["DISPLAY"], reconnect_delays_s=(0.5,))
    operator = OperatorClient(relay.url)
    try:
        yield customer, operator
    finally:
        await operator.close()
        await customer.stop()


async def connect(customer: Customer, operator: OperatorClient) -> None:
    customer.start()
    await operator.login("hanako", PASSWORD)
    code = await customer.wait_code()
    await operator.claim(code)
    await expect(operator, ClaimAccepted)


async def test_known_picture_arrives_intact(parties: tuple[Customer, OperatorClient]) -> None:
    customer, operator = parties
    await connect(customer, operator)
    await expect(operator, ViewingStarted)
    await wait_until(lambda: operator.sink.frames_received >= 3)
    # Let a keep-alive frame refine the static picture.
    await asyncio.sleep(2.0)
    image = operator.sink.latest()
    assert image is not None
    assert image.shape == (HEIGHT, WIDTH, 3)
    reference = render_picture(WIDTH, HEIGHT)
    quality = psnr_luma(image, reference)
    assert quality >= 38.0, f"luma PSNR {quality:.1f} dB"
    # And a wrong reference is told apart: the test can fail.
    assert psnr_luma(image, np.roll(reference, 40, axis=1)) < 25.0


async def test_operator_identity_shown_to_customer(parties: tuple[Customer, OperatorClient]) -> None:
    customer, operator = parties
    await connect(customer, operator)
    await expect(operator, ViewingStarted)
    [asking] = [e for e in customer.events if isinstance(e, OperatorAsking)]
    assert asking.operator.display_name == "佐藤 花子"
    assert asking.operator.organisation == "Madoguchi Securities"


async def test_system_information_reaches_the_operator_after_allow(
    parties: tuple[Customer, OperatorClient],
) -> None:
    customer, operator = parties
    await connect(customer, operator)
    await expect(operator, ViewingStarted)
    event = await expect(operator, CustomerMessage)
    while not (isinstance(event, CustomerMessage) and isinstance(event.message, SysInfoReport)):
        event = await expect(operator, CustomerMessage)
    report = event.message
    assert report.scope == "detailed"
    assert set(report.data) == set(KEYS)
    assert isinstance(report.data["os"], str)
    assert report.data["os"]  # a real reading on this machine, not null
    assert set(report.unavailable) <= set(report.data)
    # The customer's side knows exactly what was sent, for the end-of-session summary.
    sent = [e for e in customer.events if isinstance(e, SystemInfoSent)]
    assert [e.report for e in sent] == [report]


async def test_pointer_and_key_guide_arrive(parties: tuple[Customer, OperatorClient]) -> None:
    customer, operator = parties
    await connect(customer, operator)
    await expect(operator, ViewingStarted)
    assert operator.peer is not None
    await asyncio.wait_for(operator.peer.channel_open.wait(), 10)
    assert operator.send_pointer(0.125, 0.875, monitor=0)
    assert operator.send_pointer(0.5, 0.25, action="click")
    assert operator.send_key_guide([["Ctrl", "C"], ["Win", "R"]], caption="コピーして実行")
    assert operator.clear_key_guide()
    await wait_until(lambda: len(customer.guidance) == 4)
    assert customer.guidance == [
        Pointer(action="move", x=0.125, y=0.875, monitor=0),
        Pointer(action="click", x=0.5, y=0.25, monitor=0),
        KeyGuide(keys=(("Ctrl", "C"), ("Win", "R")), caption="コピーして実行"),
        KeyGuideClear(),
    ]


async def test_deny_means_no_capture_and_no_frames(
    relay: RunningRelay, parties: tuple[Customer, OperatorClient]
) -> None:
    customer, operator = parties
    customer.allow = False
    await connect(customer, operator)
    ended = await expect(operator, SessionEnded)
    assert isinstance(ended, SessionEnded)
    assert ended.reason is EndReason.DENIED
    assert (await customer.ended()).reason is EndReason.DENIED
    await asyncio.sleep(0.5)
    assert customer.tracks == []  # the screen was never even opened for capture
    assert operator.sink.frames_received == 0
    assert operator.peer is None
    assert relay.state.store.pairings() == []


async def test_allow_timeout_means_no_frames(
    relay: RunningRelay, parties: tuple[Customer, OperatorClient]
) -> None:
    customer, operator = parties
    customer.allow = None  # the customer walks away from the Allow dialog
    await connect(customer, operator)
    ended = await expect(operator, SessionEnded, timeout=15)
    assert isinstance(ended, SessionEnded)
    assert ended.reason is EndReason.ALLOW_TIMEOUT
    assert customer.tracks == []
    assert operator.sink.frames_received == 0


@pytest.mark.parametrize("who", ["agent", "operator"])
async def test_bye_from_either_side_closes_everything(
    who: str, relay: RunningRelay, parties: tuple[Customer, OperatorClient]
) -> None:
    customer, operator = parties
    await connect(customer, operator)
    await expect(operator, ViewingStarted)
    await wait_until(lambda: operator.sink.frames_received >= 1)
    agent_peer = customer.session.peer if customer.session else None
    operator_peer = operator.peer
    assert agent_peer is not None
    assert operator_peer is not None
    if who == "agent":
        assert customer.session is not None
        await customer.session.stop()
    else:
        await operator.end_session()
    ended = await expect(operator, SessionEnded)
    assert isinstance(ended, SessionEnded)
    assert ended.by == who
    assert (await customer.ended()).by == who
    await wait_until(lambda: agent_peer.pc.connectionState == "closed")
    await wait_until(lambda: operator_peer.pc.connectionState == "closed")
    assert customer.tracks[0].readyState == "ended"
    await wait_until(lambda: relay.state.store.pairings() == [])


async def test_static_screen_sends_no_new_frames(parties: tuple[Customer, OperatorClient]) -> None:
    customer, operator = parties
    await connect(customer, operator)
    await expect(operator, ViewingStarted)
    await wait_until(lambda: operator.sink.frames_received >= 1)
    await asyncio.sleep(1.0)
    track = customer.tracks[0]
    before = track.stats
    received_before = operator.sink.frames_received
    await asyncio.sleep(3.0)
    after = track.stats
    # 15 fps for 3 s would be 45 frames; a static screen gets keep-alives only (every 1.5 s).
    sent = after.sent - before.sent
    assert sent <= 3, f"{sent} frames sent for a static screen"
    grabs = after.captured - before.captured
    assert after.skipped_unchanged - before.skipped_unchanged == grabs  # every grab was equal
    # With X DAMAGE a static screen is not even grabbed (a check a second); on a timer, ~15/s.
    assert grabs <= 5 if track.watching_changes else grabs >= 30, grabs
    assert operator.sink.frames_received - received_before <= 3
