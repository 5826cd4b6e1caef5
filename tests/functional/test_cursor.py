"""The customer's mouse cursor reaches the operator: real Xvfb, relay and aiortc peers.

The scripted customer moves the real X pointer (``WarpPointer``); the agent reads it
with XCB/XFixes and sends it on the guidance channel; the operator client's
:class:`operator_console.cursor.RemoteCursor` must then show that position and the
exact picture XFixes reports, hide it while the customer pauses, and learn a new
shape when the pointer enters a window with another cursor (the scene's blank one).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from agent.capture.cursor import X11CursorReader
from operator_console.client import OperatorClient, ViewingStarted
from operator_console.cursor import RemoteCursor
from relay.server import running_relay
from testbed.customer import Customer
from testbed.operator import expect
from testbed.scene import SceneProcess
from testbed.x_pointer import XPointer
from testbed.xvfb import VirtualDisplay

WIDTH, HEIGHT = 640, 480
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.display


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A bare display (the root window shows X's default cursor) with a scene in its right half."""
    with (
        VirtualDisplay(screens=[(WIDTH, HEIGHT)]) as xvfb,
        SceneProcess(xvfb.name, "static", geometry=(WIDTH // 2, 0, WIDTH // 2, HEIGHT)),
    ):
        yield xvfb.name


async def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"not in time: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def live(display: str) -> AsyncIterator[tuple[Customer, OperatorClient, XPointer]]:
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        async with running_relay() as relay:
            relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
            customer = Customer(relay.url, display=display, send_system_info=False)
            operator = OperatorClient(relay.url)
            with XPointer(display) as pointer:
                pointer.move(10, 10)
                try:
                    customer.start()
                    await operator.login("hanako", PASSWORD)
                    await operator.claim(await customer.wait_code())
                    await expect(operator, ViewingStarted, 30, "the screen never arrived")
                    yield customer, operator, pointer
                finally:
                    await operator.close()
                    await customer.stop()
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old


def at(cursor: RemoteCursor) -> tuple[int, int] | None:
    state = cursor.state
    return (round(state.x * WIDTH), round(state.y * HEIGHT)) if state.visible else None


async def test_position_and_shape_reach_the_operator(
    live: tuple[Customer, OperatorClient, XPointer], display: str
) -> None:
    _customer, operator, pointer = live
    cursor = operator.cursor
    pointer.move(100, 200)
    await wait_until(lambda: at(cursor) == (100, 200), "the cursor at 100,200")
    shape = cursor.state.shape
    assert shape is not None
    reader = X11CursorReader(display)
    try:
        truth = reader.image()
    finally:
        reader.close()
    assert truth is not None
    # Exactly the picture and hotspot the X server has (X's default cursor here).
    assert (shape.width, shape.height, shape.hot_x, shape.hot_y) == (
        truth.width,
        truth.height,
        truth.hot_x,
        truth.hot_y,
    )
    assert shape.rgba == truth.rgba
    assert any(shape.rgba[3::4])  # not a blank picture

    # Resting costs nothing; a move is one message.
    await asyncio.sleep(0.3)
    before = cursor.moves_received
    await asyncio.sleep(0.5)
    assert cursor.moves_received == before
    pointer.move(101, 200)
    await wait_until(lambda: at(cursor) == (101, 200), "the cursor at 101,200")
    assert cursor.moves_received == before + 1

    # Into the scene's window, whose cursor is blank: a new shape arrives, sent once.
    shapes = cursor.shapes_received
    pointer.move(WIDTH * 3 // 4, 50)
    await wait_until(lambda: at(cursor) == (WIDTH * 3 // 4, 50), "the cursor over the scene")
    await wait_until(
        lambda: cursor.state.shape is not None and not any(cursor.state.shape.rgba[3::4]),
        "the scene's blank cursor",
    )
    assert cursor.shapes_received == shapes + 1


async def test_nothing_while_paused(live: tuple[Customer, OperatorClient, XPointer]) -> None:
    customer, operator, pointer = live
    cursor = operator.cursor
    pointer.move(50, 60)
    await wait_until(lambda: at(cursor) == (50, 60), "the cursor at 50,60")
    await customer.pause(True)
    await wait_until(lambda: at(cursor) is None, "the cursor hidden while paused")
    moves = cursor.moves_received
    for x in range(70, 130, 10):
        pointer.move(x, 60)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert cursor.moves_received == moves
    assert customer.session is not None
    assert customer.session.cursor_feed.paused
    await customer.pause(False)
    await wait_until(lambda: at(cursor) == (120, 60), "the cursor back after resuming")
