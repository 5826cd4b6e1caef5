"""The console against a real relay and a real agent streaming a known Xvfb picture.

Each test logs in through the login dialog, types the customer's code into the
code page and drives the window as an operator would (mouse events on the view,
buttons, shortcuts). The customer's side is :class:`agent.session.AgentSession`
capturing the ``picture`` scene; what it receives (pointer, key guide) and how
its session ends is asserted there, what the operator sees is grabbed from the
widgets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QWidget
from pytestqt.qtbot import QtBot

from client_core.loop_thread import LoopThread
from operator_console.ui.main_window import ConsoleWindow
from operator_console.ui.messages import end_text
from operator_console.ui.pointer import ViewMode
from operator_console.ui.session_tab import SessionTab, TabState
from protocol import (
    EndReason,
    KeyGuide,
    KeyGuideClear,
    KeyGuideClosed,
    MonitorInfo,
    Monitors,
    Pointer,
    SysInfoReport,
)
from testbed.customer import Customer
from testbed.qt_input import mouse
from testbed.quality import psnr_luma
from testbed.scene import render_picture
from testbed.world import World, picture_display
from tests.ui.console_login import log_in_console

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.display, pytest.mark.slow]

WIDTH, HEIGHT = 960, 540
PASSWORD = "correct horse battery"
PIXEL = 1.0 / WIDTH


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with picture_display(WIDTH, HEIGHT) as name:
        yield name


@pytest.fixture
def world(display: str) -> Iterator[World]:
    world = World(allow_timeout_s=5.0)
    world.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    yield world
    world.close()


@pytest.fixture
def net() -> Iterator[LoopThread]:
    loop = LoopThread("console-net")
    yield loop
    loop.stop()


@pytest.fixture
def console(qtbot: QtBot, world: World, net: LoopThread, tmp_path: Path) -> Iterator[ConsoleWindow]:
    yield from open_console(qtbot, world.url, net, tmp_path)


def open_console(qtbot: QtBot, relay_url: str, net: LoopThread, tmp_path: Path) -> Iterator[ConsoleWindow]:
    window = log_in_console(qtbot, net, relay_url, tmp_path, PASSWORD, size=(1400, 900))
    yield window
    window.close()


def current(window: ConsoleWindow) -> SessionTab:
    tab = window.current_tab()
    assert tab is not None
    return tab


def pointing(tab: SessionTab) -> bool:
    return tab.view.pointing


def type_code(qtbot: QtBot, tab: SessionTab, code: str) -> None:
    tab.code_page.code.clear()
    QTest.keyClicks(tab.code_page.code, code)
    QTest.keyClick(tab.code_page.code, Qt.Key.Key_Return)


def go_live(qtbot: QtBot, world: World, display: str, tab: SessionTab, **fields: Any) -> Customer:
    customer = world.customer(display, **fields)
    type_code(qtbot, tab, world.call(customer.wait_code()))
    qtbot.waitUntil(lambda: tab.state is TabState.LIVE, timeout=15_000)
    qtbot.waitUntil(tab.view.has_picture, timeout=10_000)
    return customer


def grab(widget: QWidget) -> npt.NDArray[np.uint8]:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    return rows[:, : 3 * width].reshape(height, width, 3).copy()


def shown_picture(tab: SessionTab) -> npt.NDArray[np.uint8]:
    """The pixels of the picture area of the view, as the operator sees them."""
    area = tab.view.picture_area()
    pixels = grab(tab.view.viewport())
    x, y = round(area.x), round(area.y)
    return pixels[y : y + round(area.height), x : x + round(area.width)]


def fit_expectation(view_w: int, view_h: int) -> tuple[float, float, float, float]:
    """Where the picture must sit in fit mode: (x, y, width, height), computed independently."""
    scale = min(view_w / WIDTH, view_h / HEIGHT)
    width, height = WIDTH * scale, HEIGHT * scale
    return (view_w - width) / 2, (view_h - height) / 2, width, height


def wait_pointers(qtbot: QtBot, customer: Customer, count: int) -> list[Pointer]:
    qtbot.waitUntil(lambda: len(customer.pointers()) >= count, timeout=5_000)
    return customer.pointers()


def test_wrong_code_then_waiting_then_live_picture_matches_source(
    qtbot: QtBot, world: World, display: str, console: ConsoleWindow
) -> None:
    tab = current(console)
    assert tab.state is TabState.CODE
    customer = world.customer(display, allow=None)  # the customer hesitates: we see the waiting page
    code = world.call(customer.wait_code())
    wrong = f"{(int(code) + 5000) % 10000:04d}"
    type_code(qtbot, tab, wrong)
    qtbot.waitUntil(lambda: tab.state is TabState.CODE and "not valid" in tab.code_page.message_text())
    assert tab.pages.currentWidget() is tab.code_page

    type_code(qtbot, tab, code)
    qtbot.waitUntil(lambda: tab.state is TabState.WAITING, timeout=10_000)
    assert tab.pages.currentWidget() is tab.waiting_page
    remaining = tab.waiting_page.remaining()
    assert remaining is not None
    assert 3 <= remaining <= 5
    assert tab.waiting_page.countdown_label.text().endswith("s")
    assert world.call(customer.session.decide(True) if customer.session else customer.stop()) is None
    qtbot.waitUntil(lambda: tab.state is TabState.LIVE, timeout=15_000)
    qtbot.waitUntil(tab.view.has_picture, timeout=10_000)

    # 100%: one picture pixel per screen pixel; the picture must be what the customer's screen shows.
    tab.view.setFixedSize(1000, 600)
    console.action("actual").trigger()
    assert tab.view.mode is ViewMode.ACTUAL
    reference = render_picture(WIDTH, HEIGHT)
    qtbot.waitUntil(lambda: shown_picture(tab).shape == reference.shape, timeout=5_000)
    qtbot.waitUntil(lambda: psnr_luma(shown_picture(tab), reference) >= 38.0, timeout=10_000)
    assert psnr_luma(shown_picture(tab), np.roll(reference, 40, axis=1)) < 25.0

    # Fit: the whole picture scaled with its aspect kept, letterbox bars around it.
    tab.view.setFixedSize(800, 600)
    console.action("fit").trigger()
    qtbot.waitUntil(lambda: tab.view.viewport().size().width() == 800)
    x, y, width, height = fit_expectation(800, 600)
    area = tab.view.picture_area()
    assert (area.x, area.width) == pytest.approx((x, width), abs=1)
    assert (area.y, area.height) == pytest.approx((y, height), abs=1)
    assert y > 50  # there are bars
    shown = shown_picture(tab)
    scaled = QImage(reference.data, WIDTH, HEIGHT, 3 * WIDTH, QImage.Format.Format_RGB888).scaled(
        shown.shape[1],
        shown.shape[0],
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    rows = np.frombuffer(scaled.constBits(), np.uint8).reshape(shown.shape[0], scaled.bytesPerLine())
    expected = rows[:, : 3 * shown.shape[1]].reshape(shown.shape)
    assert psnr_luma(shown, expected) >= 25.0
    bar = grab(tab.view.viewport())[: int(y) - 2]
    assert (bar == bar[0, 0]).all()  # a plain bar, nothing of the picture

    stats_text = console.stats_label.text()
    qtbot.waitUntil(lambda: "fps" in console.stats_label.text(), timeout=5_000)
    assert "kbit/s" in console.stats_label.text() or stats_text


def test_pointer_in_fit_mode_with_letterbox_and_in_100_percent_with_scrolling(
    qtbot: QtBot, world: World, display: str, console: ConsoleWindow
) -> None:
    tab = current(console)
    customer = go_live(qtbot, world, display, tab)
    viewport = tab.view.viewport()

    tab.view.setFixedSize(800, 600)
    qtbot.waitUntil(lambda: viewport.width() == 800 and viewport.height() == 600)
    x0, y0, width, height = fit_expectation(800, 600)
    qtbot.waitUntil(
        lambda: (
            tab.bridge.client is not None
            and tab.bridge.client.peer is not None
            and tab.bridge.client.peer.channel_open.is_set()
        ),
        timeout=10_000,
    )
    mouse(viewport, "move", QPointF(x0 + 0.25 * width, y0 + 0.75 * height))
    [first] = wait_pointers(qtbot, customer, 1)
    assert first.action == "move"
    assert first.monitor == 0
    assert (first.x, first.y) == pytest.approx((0.25, 0.75), abs=2 * PIXEL)

    # Letterbox bars (above and below the picture) send nothing.
    for pos in (QPointF(400, y0 / 2), QPointF(400, y0 + height + 10), QPointF(5, 599)):
        qtbot.wait(40)
        mouse(viewport, "move", pos)
    qtbot.wait(300)
    assert len(customer.pointers()) == 1

    # A click sends a ripple at the right place.
    qtbot.wait(40)
    mouse(viewport, "press", QPointF(x0 + 0.5 * width, y0 + 0.5 * height), Qt.MouseButton.LeftButton)
    mouse(viewport, "release", QPointF(x0 + 0.5 * width, y0 + 0.5 * height), Qt.MouseButton.LeftButton)
    click = wait_pointers(qtbot, customer, 2)[-1]
    assert click.action == "click"
    assert (click.x, click.y) == pytest.approx((0.5, 0.5), abs=2 * PIXEL)

    # A burst of moves is throttled, and the last position of the burst always arrives.
    before = len(customer.pointers())
    for i in range(60):
        mouse(viewport, "move", QPointF(x0 + (0.1 + i * 0.01) * width, y0 + 0.2 * height))
    qtbot.waitUntil(lambda: customer.pointers()[-1].x == pytest.approx(0.69, abs=2 * PIXEL), timeout=3_000)
    assert len(customer.pointers()) - before <= 4

    # 100% with scroll bars: the scroll offsets count.
    tab.view.setFixedSize(600, 400)
    console.action("actual").trigger()
    qtbot.waitUntil(lambda: tab.view.horizontalScrollBar().maximum() > 0)
    tab.view.horizontalScrollBar().setValue(200)
    tab.view.verticalScrollBar().setValue(100)
    assert tab.view.horizontalScrollBar().value() == 200
    assert tab.view.verticalScrollBar().value() == 100
    before = len(customer.pointers())
    qtbot.wait(40)
    mouse(viewport, "move", QPointF(50, 60))
    moved = wait_pointers(qtbot, customer, before + 1)[-1]
    assert (moved.x, moved.y) == pytest.approx(((50 + 200) / WIDTH, (60 + 100) / HEIGHT), abs=PIXEL)

    # Pointer off (Ctrl+P): the customer's pointer is hidden, and moves send nothing more.
    console.action("pointer").trigger()
    hide = wait_pointers(qtbot, customer, before + 2)[-1]
    assert hide.action == "hide"
    assert not pointing(tab)
    assert viewport.cursor().shape() is Qt.CursorShape.CrossCursor
    qtbot.wait(40)
    mouse(viewport, "move", QPointF(100, 100))
    qtbot.wait(300)
    assert len(customer.pointers()) == before + 2
    console.action("pointer").trigger()
    assert pointing(tab)
    assert viewport.cursor().shape() is Qt.CursorShape.BitmapCursor  # the ring, never an arrow


def test_key_guide_info_panel_and_monitor_switch(
    qtbot: QtBot, world: World, display: str, console: ConsoleWindow
) -> None:
    report = SysInfoReport(
        scope="detailed",
        data={
            "os": "Windows 11 Pro",
            "os_version": "23H2",
            "physical_memory_bytes": 8 * 1024**3,
            "cpu_clock_mhz": 2400,
            "router_present": True,
            "ip_addresses": [{"interface": "Wi-Fi", "address": "192.168.1.20/24"}],
        },
        unavailable={"antivirus": "not reported by Windows Security Center"},
    )
    # The customer shares a desktop of two side-by-side monitors (the Xvfb screen split in two).
    monitors = Monitors(
        monitors=(
            MonitorInfo(index=0, x=0, y=0, width=480, height=540, primary=True),
            MonitorInfo(index=1, x=480, y=0, width=480, height=540),
        ),
        active=2,
    )
    tab = current(console)
    customer = go_live(
        qtbot, world, display, tab, initial_guidance=lambda: [report, monitors], send_system_info=False
    )
    qtbot.waitUntil(lambda: tab.info_panel.report is not None, timeout=10_000)

    # Keyboard guide: one palette combination and one typed shortcut, with a caption.
    console.action("key_guide").trigger()
    assert tab.side.currentIndex() == 0
    assert tab.key_guide.isVisibleTo(tab.side)
    tab.key_guide.palette_buttons[("Ctrl", "C")].click()
    QTest.keyClicks(tab.key_guide.typed, "ctrl+shift+esc")
    QTest.keyClick(tab.key_guide.typed, Qt.Key.Key_Return)
    QTest.keyClicks(tab.key_guide.typed, "ctrl+banana")
    QTest.keyClick(tab.key_guide.typed, Qt.Key.Key_Return)
    assert "banana" in tab.key_guide.error.text()
    tab.key_guide.typed.clear()
    tab.key_guide.caption.setText("コピーしてからタスクマネージャーを開きます")
    console.action("send_keys").trigger()
    qtbot.waitUntil(lambda: any(isinstance(g, KeyGuide) for g in customer.guidance), timeout=5_000)
    [guide] = [g for g in customer.guidance if isinstance(g, KeyGuide)]
    assert guide.keys == (("Ctrl", "C"), ("Ctrl", "Shift", "Esc"))
    assert guide.caption == "コピーしてからタスクマネージャーを開きます"
    assert tab.key_guide.sent_note.text() == "Shown to the customer: Ctrl + C, Ctrl + Shift + Esc"
    # The customer closes the guide with its × button: the console stops claiming it is shown.
    assert customer.session is not None
    session = customer.session
    world.call_soon(lambda: session.send_guidance(KeyGuideClosed()))
    qtbot.waitUntil(lambda: tab.key_guide.shown_to_customer is None, timeout=5_000)
    assert tab.key_guide.sent_note.text() == "The customer closed the keyboard guide."
    assert tab.key_guide.combos() == [("Ctrl", "C"), ("Ctrl", "Shift", "Esc")]  # ready to send again
    console.action("clear_keys").trigger()
    qtbot.waitUntil(lambda: isinstance(customer.guidance[-1], KeyGuideClear), timeout=5_000)
    assert tab.key_guide.combos() == []

    # Customer information, copyable as text.
    console.action("info").trigger()
    assert tab.side.currentWidget() is tab.info_panel
    text = tab.info_panel.as_text()
    assert "Operating system: Windows 11 Pro" in text
    assert "Memory: 8.0 GB" in text
    assert "Processor speed: 2.40 GHz" in text
    assert "Antivirus: unavailable (not reported by Windows Security Center)" in text
    assert "192.168.1.20/24" in text
    console.action("copy_info").trigger()
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None
    assert clipboard.text() == text

    # Monitor switcher: the whole desktop is shared; pick the second monitor.
    assert tab.monitor_combo.isVisibleTo(tab)
    assert tab.monitor_combo.count() == 3
    tab.view.setFixedSize(800, 600)
    qtbot.waitUntil(lambda: tab.view.viewport().width() == 800)
    row = tab.monitor_combo.findData(1)
    tab.monitor_combo.setCurrentIndex(row)
    tab.monitor_combo.activated.emit(row)
    assert tab.pointer_monitor == 1
    source = tab.view.source_rect()
    assert source is not None
    assert (source.x(), source.width(), source.height()) == (480, 480, 540)
    # Fit of a 480x540 monitor into 800x600: bars left and right this time.
    scale = min(800 / 480, 600 / 540)
    x0, y0 = (800 - 480 * scale) / 2, (600 - 540 * scale) / 2
    qtbot.waitUntil(
        lambda: (
            tab.bridge.client is not None
            and tab.bridge.client.peer is not None
            and tab.bridge.client.peer.channel_open.is_set()
        ),
        timeout=10_000,
    )
    mouse(tab.view.viewport(), "move", QPointF(x0 + 0.5 * 480 * scale, y0 + 0.25 * 540 * scale))
    pointer = wait_pointers(qtbot, customer, 1)[-1]
    assert pointer.monitor == 1
    assert (pointer.x, pointer.y) == pytest.approx((0.5, 0.25), abs=2 / 480)


@pytest.mark.parametrize("who", ["agent", "operator"])
def test_ending_from_either_side_updates_the_ui(
    who: str, qtbot: QtBot, world: World, display: str, console: ConsoleWindow
) -> None:
    tab = current(console)
    customer = go_live(qtbot, world, display, tab)
    code = tab.code
    # Guidance for this customer, which must not carry over to the next one.
    tab.key_guide.palette_buttons[("Alt", "Tab")].click()
    tab.key_guide.caption.setText("前のお客さま向けの説明")
    tab.key_guide.send()
    assert tab.key_guide.shown_to_customer == [("Alt", "Tab")]
    world.call(customer.pause(True))
    qtbot.waitUntil(lambda: "Paused by the customer" in (tab.banner_text() or ""), timeout=5_000)
    world.call(customer.pause(False))
    qtbot.waitUntil(lambda: tab.banner_text() is None, timeout=5_000)
    if who == "agent":
        # The operator hesitates over End while the customer stops: the question goes away.
        QTest.mouseClick(tab.end_button, Qt.MouseButton.LeftButton)
        assert tab.confirm_end is not None
        world.call(customer.stop())
        qtbot.waitUntil(lambda: tab.state is TabState.ENDED, timeout=10_000)
        assert tab.confirm_end is None
    else:
        QTest.mouseClick(tab.end_button, Qt.MouseButton.LeftButton)
        # The big red button asks first; the default answer keeps the session.
        box = tab.confirm_end
        assert box is not None
        assert box.isVisible()
        QTest.keyClick(box, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: tab.confirm_end is None)
        assert tab.state is TabState.LIVE
        console.action("end_session").trigger()  # Ctrl+E asks too
        box = tab.confirm_end
        assert box is not None
        yes = box.findChild(QPushButton, "confirmEndYes")
        assert yes is not None
        QTest.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.state is TabState.ENDED, timeout=10_000)
    assert world.call(customer.ended()).by == who
    expected = end_text(EndReason.NORMAL, who)
    assert tab.ended_page.reason.text() == expected
    assert ("customer ended" in expected) if who == "agent" else ("You ended" in expected)
    assert not tab.view.has_picture()
    # The wrap-up: number, start, duration, how it ended, and notes that go only to the clipboard.
    page = tab.ended_page
    assert page.code_value.text() == code
    assert tab.title() == f"{code} · ended"  # several tabs may be wrapping up at once
    minutes, seconds = page.duration_value.text().split(":")
    assert int(minutes) == 0
    assert 0 <= int(seconds) < 60
    assert page.started_value.text() != "—"
    assert "never sent anywhere and never stored" in page.privacy.text()
    QTest.keyClicks(page.notes, "Explained Alt+Tab; call back tomorrow")
    QTest.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None
    copied = clipboard.text()
    assert f"Number: {code}" in copied
    assert f"How it ended: {expected}" in copied
    assert "Explained Alt+Tab; call back tomorrow" in copied
    # Enter on the ended page: straight to the next customer's code.
    QTest.keyClick(page.next_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.state is TabState.CODE)
    assert page.notes.toPlainText() == ""  # nothing of the last customer stays
    go_live(qtbot, world, display, tab)
    # A new customer: no keys, no caption, and no claim that anything is shown.
    assert tab.key_guide.combos() == []
    assert tab.key_guide.caption.text() == ""
    assert tab.key_guide.sent_note.text() == "Nothing is shown to the customer."
    assert tab.key_guide.shown_to_customer is None


def test_denied_is_explained(qtbot: QtBot, world: World, display: str, console: ConsoleWindow) -> None:
    tab = current(console)
    customer = world.customer(display, allow=False)
    type_code(qtbot, tab, world.call(customer.wait_code()))
    qtbot.waitUntil(lambda: tab.state is TabState.ENDED, timeout=10_000)
    assert tab.ended_page.reason.text() == "The customer declined to share their screen."
    assert customer.tracks == []


def test_tabs_isolate_sessions_and_closing_a_tab_ends_only_its_session(
    qtbot: QtBot, world: World, display: str, console: ConsoleWindow
) -> None:
    first = current(console)
    alice = go_live(qtbot, world, display, first)
    console.action("new_tab").trigger()
    second = current(console)
    assert second is not first
    qtbot.waitUntil(lambda: second.state is TabState.CODE, timeout=10_000)
    bob = go_live(qtbot, world, display, second)
    assert first.bridge.client is not second.bridge.client

    for tab in (first, second):
        tab.view.setFixedSize(800, 600)
    qtbot.waitUntil(
        lambda: (
            second.bridge.client is not None
            and second.bridge.client.peer is not None
            and second.bridge.client.peer.channel_open.is_set()
        ),
        timeout=10_000,
    )
    x0, y0, width, height = fit_expectation(800, 600)
    qtbot.waitUntil(lambda: second.view.viewport().width() == 800)
    mouse(second.view.viewport(), "move", QPointF(x0 + 0.6 * width, y0 + 0.4 * height))
    [pointer] = wait_pointers(qtbot, bob, 1)
    assert (pointer.x, pointer.y) == pytest.approx((0.6, 0.4), abs=2 * PIXEL)
    qtbot.wait(300)
    assert alice.pointers() == []

    # Each tab shows its own customer's system information, as the real collector read it.
    qtbot.waitUntil(lambda: second.info_panel.report is not None, timeout=15_000)
    assert bob.session is not None
    assert second.info_panel.report == bob.session.system_info
    os_name = str(bob.session.system_info.data["os"]) if bob.session.system_info else ""
    assert f"Operating system: {os_name}" in second.info_panel.as_text()

    console.close_tab(console.tabs.indexOf(first))
    assert world.call(alice.ended()).by == "operator"
    assert console.session_tabs() == [second]
    painted = second.view.frames_painted
    qtbot.waitUntil(lambda: second.view.frames_painted > painted, timeout=5_000)
    assert second.state is TabState.LIVE
    assert bob.task is not None
    assert not bob.task.done()


def test_issue_a_6_digit_code_for_the_customer(
    qtbot: QtBot, world: World, display: str, console: ConsoleWindow
) -> None:
    tab = current(console)
    # Issue one and cancel it: back to the code page, nothing pending at the relay.
    console.action("issue_code").trigger()
    qtbot.waitUntil(lambda: tab.code_page.issued.isVisibleTo(tab), timeout=5_000)
    cancelled = tab.code
    QTest.mouseClick(tab.code_page.cancel_issue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.state is TabState.CODE and "cancelled" in tab.code_page.message_text())
    assert not tab.code_page.issued.isVisibleTo(tab)
    qtbot.waitUntil(lambda: world.relay.state.store.pairings() == [], timeout=5_000)

    console.action("issue_code").trigger()
    qtbot.waitUntil(
        lambda: tab.code not in (None, cancelled) and tab.code_page.issued.isVisibleTo(tab), timeout=5_000
    )
    shown = tab.code_page.issued.text().replace(" ", "")
    assert shown == tab.code
    assert len(shown) == 6
    assert shown.isdigit()
    assert "Valid for" in tab.code_page.issued_note.text()
    # Where the customer types it, said on the page itself.
    assert "start page of the support site" in tab.code_page.issued_note.text()
    customer = world.customer(display, operator_code=shown)
    qtbot.waitUntil(lambda: tab.state is TabState.LIVE, timeout=15_000)
    qtbot.waitUntil(tab.view.has_picture, timeout=10_000)
    assert customer.tracks


def test_the_consoles_own_relay_link_dropping_is_said_and_the_picture_goes_on(
    qtbot: QtBot, world: World, display: str, net: LoopThread, tmp_path: Path
) -> None:
    link = world.link()
    opened = open_console(qtbot, link.url, net, tmp_path)
    tab = current(next(opened))
    try:
        customer = go_live(qtbot, world, display, tab)
        world.run_on_loop(link.down)
        qtbot.waitUntil(
            lambda: "connection to the relay dropped" in (tab.banner_text() or ""), timeout=10_000
        )
        assert tab.state is TabState.LIVE
        assert not tab.view._dimmed  # the picture still flows: nothing to grey out
        world.run_on_loop(link.up)
        qtbot.waitUntil(lambda: tab.banner_text() is None, timeout=15_000)
        assert tab.state is TabState.LIVE
        assert customer.task is not None
        assert not customer.task.done()
    finally:
        next(opened, None)  # closes the window


def test_customer_reconnecting_is_shown_and_clears(
    qtbot: QtBot, world: World, display: str, console: ConsoleWindow
) -> None:
    link = world.link()
    tab = current(console)
    customer = go_live(
        qtbot, world, display, tab, relay_url=f"http://127.0.0.1:{link.port}", reconnect_delays_s=(0.2,)
    )
    world.run_on_loop(link.down)
    qtbot.waitUntil(lambda: "Reconnecting" in (tab.banner_text() or ""), timeout=10_000)
    assert tab.state is TabState.LIVE
    world.run_on_loop(link.up)
    qtbot.waitUntil(lambda: tab.banner_text() is None, timeout=10_000)
    assert tab.state is TabState.LIVE
    assert customer.task is not None
    assert not customer.task.done()
