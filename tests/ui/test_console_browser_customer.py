"""The console with a browser customer (normal mode, 通常版): labelled, pointer and keyboard guide off.

A real relay (:class:`testbed.world.World`), the real console window logged in through
its login dialog, and a real Chromium on the test Xvfb sharing its whole screen from
``/share`` (:class:`testbed.browser.BrowserCustomer`). The operator types the browser's
number; after the customer's Allow the live page must say "normal mode", disable the
pointer and the keyboard guide with the reason, and nothing the operator does with the
mouse over the picture may reach the page. The next customer starts with the tools on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from client_core.i18n import switch_language
from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow
from operator_console.ui.session_tab import SessionTab, TabState
from testbed.browser import BrowserCustomer
from testbed.qt_input import mouse
from testbed.world import World
from tests.ui.console_login import log_in_console

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.display, pytest.mark.slow]

PASSWORD = "correct horse battery"


@pytest.fixture
def world(xvfb: str) -> Iterator[World]:
    world = World(allow_timeout_s=20.0)
    world.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    yield world
    world.close()


@pytest.fixture
def browser(world: World, xvfb: str) -> Iterator[BrowserCustomer]:
    """Chromium on the test display, driven from the world's loop."""
    stack = contextlib.AsyncExitStack()
    customer = world.call(stack.enter_async_context(BrowserCustomer.start(xvfb)), timeout=60)
    yield customer
    world.call(stack.aclose(), timeout=30)


@pytest.fixture
def console(qtbot: QtBot, world: World, tmp_path: Path) -> Iterator[ConsoleWindow]:
    window = log_in_console(qtbot, world.loop, world.url, tmp_path, PASSWORD, size=(1366, 768))
    yield window
    window.close()
    switch_language(I18N_DIR, I18N_DOMAIN, "en")


def _tab(window: ConsoleWindow) -> SessionTab:
    tab = window.current_tab()
    assert tab is not None
    return tab


def _client(tab: SessionTab) -> str:
    """The tab's client kind, read afresh (not narrowed by an earlier assert)."""
    return tab.client


def test_a_browser_customer_is_labelled_and_its_guidance_tools_are_off(
    qtbot: QtBot, world: World, browser: BrowserCustomer, console: ConsoleWindow
) -> None:
    tab = _tab(console)
    qtbot.waitUntil(lambda: tab.state is TabState.CODE, timeout=10_000)
    assert tab.pointer_button.isEnabled()
    assert tab.key_guide.send_button.isEnabled()

    world.call(browser.goto(f"{world.url}/share?lang=en"))
    world.call(browser.click("#agree"))  # consent, then the picker (answered by Chromium's flag)
    world.call(browser.wait("#view-code", timeout_s=15))
    code = world.call(browser.text("#code"))
    QTest.keyClicks(tab.code_page.code, code)
    QTest.keyClick(tab.code_page.code, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.state is TabState.WAITING, timeout=10_000)
    assert _client(tab) == "browser"

    world.call(browser.wait("#allow"))
    world.call(browser.click("#allow"))
    qtbot.waitUntil(lambda: tab.state is TabState.LIVE, timeout=15_000)
    qtbot.waitUntil(tab.view.has_picture, timeout=10_000)

    # Labelled as normal mode, with the reason the tools are off.
    assert tab.mode_label.isVisible()
    assert tab.mode_label.text() == "Normal mode (browser)"
    assert tab.guidance_note.isVisible()
    assert "cannot be drawn outside the customer's browser" in tab.guidance_note.text()
    assert not tab.pointer_button.isEnabled()
    assert not tab.pointer_button.isChecked()
    assert "normal mode" in tab.pointer_button.toolTip()
    assert not tab.key_guide.send_button.isEnabled()
    assert not tab.key_guide.clear_button.isEnabled()
    assert not tab.key_guide.fields_scroll.isEnabled()
    assert "Not available in normal mode" in tab.key_guide.sent_note.text()
    for name in ("pointer", "key_guide", "send_keys", "clear_keys"):
        assert not console._actions[name].isEnabled(), name

    # Ctrl+P's slot and the mouse over the picture send nothing to the page.
    console.toggle_pointer()
    assert not tab.view.pointing
    qtbot.waitUntil(
        lambda: (
            tab.bridge.client is not None
            and tab.bridge.client.peer is not None
            and tab.bridge.client.peer.channel_open.is_set()
        ),
        timeout=10_000,
    )
    viewport = tab.view.viewport()
    area = tab.view.picture_area()
    for fx, fy in ((0.3, 0.3), (0.5, 0.6), (0.7, 0.4)):
        mouse(viewport, "move", QPointF(area.x + fx * area.width, area.y + fy * area.height))
        qtbot.wait(60)
    mouse(
        viewport,
        "press",
        QPointF(area.x + area.width / 2, area.y + area.height / 2),
        Qt.MouseButton.LeftButton,
    )
    mouse(
        viewport,
        "release",
        QPointF(area.x + area.width / 2, area.y + area.height / 2),
        Qt.MouseButton.LeftButton,
    )
    tab.key_guide.add_combo(("ctrl", "c"))
    tab.key_guide.send()
    assert tab.key_guide.shown_to_customer is None
    qtbot.wait(500)
    moves = world.call(browser.eval("document.getElementById('pointer').dataset.moves ?? '0'"))
    assert moves == "0"

    # The same words in Japanese (docs/glossary.md: 通常版).
    console.set_language("ja")
    assert tab.mode_label.text() == "通常版（ブラウザー）"
    assert "通常版では使えません" in tab.key_guide.sent_note.text()
    console.set_language("en")

    # The customer stops; the next customer starts with every tool back.
    world.call(browser.click("#stop"))
    qtbot.waitUntil(lambda: tab.state is TabState.ENDED, timeout=10_000)
    tab.next_customer()
    assert tab.state is TabState.CODE
    assert _client(tab) == "agent"  # back to the default for whoever comes next
    assert tab.pointer_button.isEnabled()
    assert tab.pointer_button.isChecked()  # the operator's own choice comes back
    assert tab.key_guide.send_button.isEnabled()
    assert all(console._actions[n].isEnabled() for n in ("pointer", "key_guide", "send_keys"))
