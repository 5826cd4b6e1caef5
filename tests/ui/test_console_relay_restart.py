"""The console through relay restarts: a valid token carries on, an expired one is asked for in place.

A real relay is stopped and started again on the same data directory and port. The
console (login dialog, main window, two tabs) is the real one. After the first restart
the tabs' tokens still work: issuing a number needs no password. After the token has
expired, the relay refuses it; the window asks for the password in a bar over the
tabs, no tab closes, and the new login reconnects the tabs.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from client_core.loop_thread import LoopThread
from operator_console.ui.main_window import ConsoleWindow
from operator_console.ui.messages import end_text, login_error_text
from operator_console.ui.session_tab import SessionTab, TabState
from protocol import EndReason
from testbed.world import World
from tests.ui.console_login import log_in_console

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSWORD = "correct horse battery"
TOKEN_TTL_S = 6.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(data_dir=tmp_path / "relay", port=_free_port(), token_ttl_s=TOKEN_TTL_S)
    # Straight into the database, not World.add_operator: a restart keeps the accounts.
    world.relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    yield world
    world.close()


@pytest.fixture
def net() -> Iterator[LoopThread]:
    loop = LoopThread("console-net")
    yield loop
    loop.stop()


def log_in(qtbot: QtBot, world: World, net: LoopThread, tmp_path: Path) -> ConsoleWindow:
    window = log_in_console(qtbot, net, world.url, tmp_path, PASSWORD, size=(1000, 700), username="hanako")
    return window


def issue(qtbot: QtBot, tab: SessionTab) -> None:
    before = tab.code
    QTest.mouseClick(tab.code_page.issue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: tab.code not in (None, before) and tab.code_page.issued.isVisibleTo(tab), timeout=10_000
    )


def restart(world: World) -> None:
    world.stop_relay()
    world.start_relay()


def test_tabs_survive_restarts_and_an_expired_login_is_asked_for_in_place(
    qtbot: QtBot, world: World, net: LoopThread, tmp_path: Path
) -> None:
    logged_in_at = time.monotonic()
    window = log_in(qtbot, world, net, tmp_path)
    first = window.current_tab()
    assert first is not None
    second = window.new_tab()
    qtbot.waitUntil(lambda: second.state is TabState.CODE and second.code_page.issue_button.isEnabled())

    # 1. A restart with the token still valid: the tab reconnects by itself, no password.
    restart(world)
    window.tabs.setCurrentWidget(first)
    issue(qtbot, first)
    assert world.relay.state.store.pairings()[0].operator == "hanako"
    assert not window.relogin.isVisible()

    # 2. The token expires; after another restart the relay refuses it.
    time.sleep(max(0.0, logged_in_at + TOKEN_TTL_S + 0.2 - time.monotonic()))
    restart(world)
    window.tabs.setCurrentWidget(second)
    QTest.mouseClick(second.code_page.issue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.relogin.isVisible, timeout=10_000)
    assert window.tabs.count() == 2  # nothing closed
    assert second.code_page.message_text() == login_error_text("token_refused")
    assert "Enter your password" in window.relogin.message.text()
    assert "hanako" in window.relogin.message.text()
    assert "Your tabs stay open" in window.relogin.message.text()
    assert not second.code_page.issue_button.isEnabled()  # greyed out until the new login

    # A wrong password is said plainly, in the bar, and the bar stays.
    QTest.keyClicks(window.relogin.password, "not the password")
    QTest.keyClick(window.relogin.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.relogin.failure() == "wrong_credentials", timeout=10_000)
    assert window.relogin.detail.text() == login_error_text("wrong_credentials")
    assert window.relogin.isVisible()
    assert window.relogin.password.text() == ""

    QTest.keyClicks(window.relogin.password, PASSWORD)
    QTest.keyClick(window.relogin.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.relogin.isVisible(), timeout=10_000)
    assert "Logged in again" in window.statusBar().currentMessage()
    qtbot.waitUntil(second.code_page.issue_button.isEnabled, timeout=10_000)
    issue(qtbot, second)
    # The other tab had a number out when the relay went down: it says so, and its next
    # number uses the new login too, without asking again.
    window.tabs.setCurrentWidget(first)
    assert first.state is TabState.ENDED
    assert first.ended_page.reason.text() == end_text(EndReason.SHUTDOWN, "relay")
    QTest.mouseClick(first.ended_page.next_button, Qt.MouseButton.LeftButton)
    issue(qtbot, first)
    assert not window.relogin.isVisible()
    assert window.session_tabs() == [first, second]
    window.close()
