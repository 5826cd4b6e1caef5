"""The console window shows the customer's real mouse cursor: real relay, agent, Xvfb.

The operator logs in and types the code as in test_console_session; the customer's
X pointer is moved with WarpPointer, and the live tab's video view must draw the
cursor at that spot of the picture, hide it while the customer pauses and show it
again after.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from client_core.loop_thread import LoopThread
from operator_console.ui.session_tab import SessionTab, TabState
from testbed.world import World, picture_display
from testbed.x_pointer import XPointer
from tests.ui.console_login import log_in_console

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.display]

WIDTH, HEIGHT = 640, 360
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with picture_display(WIDTH, HEIGHT) as name:
        yield name


@pytest.fixture
def world(display: str) -> Iterator[World]:
    world = World()
    world.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    yield world
    world.close()


@pytest.fixture
def tab(qtbot: QtBot, world: World, tmp_path: Path) -> Iterator[SessionTab]:
    net = LoopThread("console-net")
    window = log_in_console(qtbot, net, world.url, tmp_path, PASSWORD, size=(1280, 800))
    tab = window.current_tab()
    assert tab is not None
    yield tab
    window.close()
    net.stop()


def test_the_customers_cursor_is_drawn_where_it_is_and_hidden_while_paused(
    qtbot: QtBot, world: World, display: str, tab: SessionTab
) -> None:
    customer = world.customer(display)
    tab.code_page.code.clear()
    QTest.keyClicks(tab.code_page.code, world.call(customer.wait_code()))
    QTest.keyClick(tab.code_page.code, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.state is TabState.LIVE, timeout=15_000)
    qtbot.waitUntil(tab.view.has_picture, timeout=10_000)
    view = tab.view
    with XPointer(display) as pointer:
        pointer.move(160, 90)
        spot = (160, 90)

        def drawn_at_spot() -> bool:
            # Computed when asked: the view's layout may still change meanwhile.
            expected = view.position_of(spot[0] / WIDTH, spot[1] / HEIGHT)
            rect = view.remote_cursor_rect()
            shape = view.remote_cursor.shape
            if rect is None or shape is None:
                return False
            size = rect.width() / shape.width
            hotspot = (rect.x() + shape.hot_x * size, rect.y() + shape.hot_y * size)
            return abs(hotspot[0] - expected.x()) < 0.01 and abs(hotspot[1] - expected.y()) < 0.01

        qtbot.waitUntil(drawn_at_spot, timeout=10_000)

        world.call(customer.pause(True))
        qtbot.waitUntil(lambda: view.remote_cursor_rect() is None, timeout=5_000)
        assert not view.remote_cursor.visible
        world.call(customer.pause(False))
        pointer.move(480, 270)
        spot = (480, 270)
        qtbot.waitUntil(drawn_at_spot, timeout=10_000)
