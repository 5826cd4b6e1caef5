"""The agent's "stays on top" under a real window manager (Openbox on Xvfb), clicked as a customer would.

Without a window manager X11 has no "always on top": ``WindowStaysOnTopHint`` only asks
the window manager (``_NET_WM_STATE_ABOVE``), so the offscreen tests can check the flag
but not its effect. Here a probe process - this module run as a program - shows a
stand-in browser window and the agent's window on the number page, then the sharing
card; the test clicks the browser with xdotool (Openbox raises and focuses what is
clicked) and reads the window manager's own stacking order (``_NET_CLIENT_LIST_STACKING``)
and active window. The number page and the card must stay above the browser while the
browser keeps the focus; the terms page is an ordinary window the browser may cover.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testbed.xvfb import VirtualDisplay

pytestmark = [pytest.mark.display]

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1366, 768)
BROWSER_CLICK = (40, 300)
"""A point of the stand-in browser (0,0 900x700) left of the agent's centred window."""


# --- the probe (runs in its own process, on the test display) ----------------------------


def _probe() -> None:
    """Show the windows; read one JSON command a line, answer one JSON line each."""
    from PySide6.QtCore import QSocketNotifier, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QWidget

    from agent.ui.sharing_bar import SharingBar
    from agent.ui.theme import apply_theme
    from agent.ui.window import AgentWindow
    from protocol import MonitorInfo, OperatorIdentity

    app = QApplication(sys.argv[:1])
    apply_theme(app)
    browser = QWidget()
    browser.setWindowTitle("browser")
    browser.setStyleSheet("background: #e4e7eb;")
    browser.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    browser.setGeometry(0, 0, 900, 700)
    browser.show()
    window = AgentWindow("en")
    card = SharingBar()

    def ids() -> dict[str, int]:
        # Read after the windows are shown: changing the stays-on-top flag makes a new X window.
        return {"browser": int(browser.winId()), "agent": int(window.winId()), "card": int(card.winId())}

    def handle(command: dict[str, Any]) -> None:
        page = command.get("page")
        if page == "code":
            window.show_page(window.code)
            window.show()
        elif page == "terms":
            window.show_page(window.consent)
        if command.get("card"):
            window.hide()
            screen = QGuiApplication.primaryScreen()
            monitor = MonitorInfo(index=0, x=0, y=0, width=SCREEN[0], height=SCREEN[1], primary=True)
            card.start(OperatorIdentity(display_name="Hanako Sato", organisation="Madoguchi"), [monitor], 0)
            card.place_on(screen.availableGeometry())
            card.show()

    def readable() -> None:
        line = sys.stdin.readline()
        if not line:
            app.quit()
            return
        handle(json.loads(line))
        QTimer.singleShot(400, lambda: print(json.dumps(ids()), flush=True))  # mapped and stacked

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(readable)
    QTimer.singleShot(400, lambda: print(json.dumps(ids()), flush=True))
    app.exec()


# --- the test side ------------------------------------------------------------------------


@pytest.fixture
def managed_display() -> Iterator[str]:
    """An Xvfb with Openbox managing its windows."""
    if shutil.which("openbox") is None:
        pytest.fail("openbox is missing (scripts/apt-packages.txt)")
    with VirtualDisplay(screens=[SCREEN]) as display:
        env = dict(os.environ, DISPLAY=display.name)
        wm = subprocess.Popen(
            ["openbox", "--sm-disable"],  # its default rc.xml: a click focuses and raises
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while _root_property(display.name, "_NET_SUPPORTING_WM_CHECK") is None:
                if time.monotonic() > deadline or wm.poll() is not None:
                    pytest.fail("openbox did not start")
                time.sleep(0.1)
            yield display.name
        finally:
            wm.terminate()
            wm.wait(5)


def _root_property(display: str, name: str) -> str | None:
    result = subprocess.run(
        ["xprop", "-root", name],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    text = result.stdout.strip()
    return None if result.returncode or "not found" in text or "no such atom" in text else text


def _window_ids(text: str | None) -> list[int]:
    """The ids of an xprop WINDOW list (``..._STACKING(WINDOW): window id # 0x..., 0x...``)."""
    if text is None or "#" not in text:
        return []
    return [int(part.strip(), 16) for part in text.split("#", 1)[1].split(",") if part.strip()]


def _stacking(display: str) -> list[int]:
    """Managed windows, bottom to top, as the window manager stacks them."""
    return _window_ids(_root_property(display, "_NET_CLIENT_LIST_STACKING"))


def _active(display: str) -> int | None:
    ids = _window_ids(_root_property(display, "_NET_ACTIVE_WINDOW"))
    return ids[0] if ids else None


def _click_browser(display: str) -> None:
    subprocess.run(
        ["xdotool", "mousemove", *map(str, BROWSER_CLICK), "click", "1"],
        env=dict(os.environ, DISPLAY=display),
        check=True,
        timeout=10,
    )
    time.sleep(0.4)


class Probe:
    def __init__(self, display: str) -> None:
        # This checkout's code, whichever copy the interpreter has installed.
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=path)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--probe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        self._answer()  # the windows are shown

    def _answer(self) -> dict[str, int]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the probe exited ({self.proc.wait(5)})")
        answer: dict[str, int] = json.loads(line)
        return answer

    def send(self, **command: Any) -> dict[str, int]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _name(display: str, window: int) -> str:
    out = subprocess.run(
        ["xprop", "-id", str(window), "_NET_WM_NAME"],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout
    return out.split("=", 1)[1].strip().strip('"') if "=" in out else ""


def _stacked_names(display: str) -> list[str]:
    """The managed windows' titles, bottom to top (ids change when Qt re-creates a window)."""
    return [_name(display, w) for w in _stacking(display)]


def _active_name(display: str) -> str:
    active = _active(display)
    return "" if active is None else _name(display, active)


BROWSER, AGENT, CARD = "browser", "Screen sharing support", "Screen sharing support – sharing"


def _above(names: list[str], upper: str, lower: str) -> bool:
    return upper in names and lower in names and names.index(upper) > names.index(lower)


def test_the_number_and_the_sharing_card_stay_above_the_browser_the_customer_clicks(
    managed_display: str,
) -> None:
    probe = Probe(managed_display)
    try:
        probe.send(page="code")
        _click_browser(managed_display)
        names = _stacked_names(managed_display)
        assert _active_name(managed_display) == BROWSER  # the customer uses the browser...
        assert _above(names, AGENT, BROWSER), names  # ...and the number stays in sight

        # The terms page is an ordinary window: a click on the browser covers it.
        probe.send(page="terms")
        _click_browser(managed_display)
        names = _stacked_names(managed_display)
        assert _above(names, BROWSER, AGENT), names

        # While sharing, the card stays above the browser too, and the browser keeps the focus.
        probe.send(card=True)
        _click_browser(managed_display)
        names = _stacked_names(managed_display)
        assert _active_name(managed_display) == BROWSER
        assert _above(names, CARD, BROWSER), names
    finally:
        probe.close()


if __name__ == "__main__" and "--probe" in sys.argv:
    _probe()
