"""The agent's overlays as real X11 windows: where they land, click-through, no focus theft.

A two-monitor Xvfb (RandR monitors, as on a real multi-head desktop) with a
compositing manager (xcompmgr) runs the overlays in a probe process - this
module run as a program - at Qt scale factor 1 and 2. The test sends the probe
the same ``protocol.Pointer`` / ``KeyGuide`` messages the operator sends, grabs
the screen with the agent's own capture code and finds the pointer circle by
its colour: its centre must be the pixel the normalised coordinates name on
that monitor.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from agent.capture import create_source
from testbed.xvfb import VirtualDisplay

pytestmark = [pytest.mark.display]

MONITORS = [(0, 0, 1280, 720), (1280, 0, 800, 600)]
POINTER_BGR = (0x5F, 0x11, 0xE0)
"""theme.POINTER (#E0115F) as mss returns it (BGRA)."""
AMBER_BGR = (0x00, 0xB3, 0xFF)
"""keyboard.COMBO_COLOURS[0] (#FFB300): the first combination's keys and chip."""
SHARING_BGR = (0x0C, 0x42, 0xC4)
"""theme.SHARING (#C4420C): the frame around the shared monitor."""


# --- the probe (runs in its own process, on the test display) ----------------------------


def _probe() -> None:
    """Show the overlays; read JSON commands on stdin, answer one JSON line each."""
    from PySide6.QtCore import QSocketNotifier, Qt, QTimer
    from PySide6.QtGui import QGuiApplication, QMouseEvent
    from PySide6.QtWidgets import QApplication, QWidget

    from agent.ui.border import ShareBorder
    from agent.ui.bridge import list_monitors
    from agent.ui.key_guide import KeyGuideOverlay
    from agent.ui.pointer import PointerOverlay
    from agent.ui.screens import qt_screen_areas, screens_showing
    from agent.ui.theme import apply_theme
    from protocol import KeyGuide, Pointer

    app = QApplication(sys.argv[:1])
    apply_theme(app)
    monitors = list_monitors()
    idle_s = float(os.environ.get("PROBE_IDLE_S", "30"))

    class Target(QWidget):
        """An ordinary window under the overlays: it must get the clicks and keep the focus."""

        def __init__(self) -> None:
            super().__init__()
            self.setObjectName("target")
            self.setWindowFlags(Qt.WindowType.FramelessWindowHint)
            self.setStyleSheet("background: #303030;")
            self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.clicks: list[tuple[float, float]] = []

        def mousePressEvent(self, event: QMouseEvent) -> None:
            pos = event.globalPosition()
            self.clicks.append((pos.x(), pos.y()))

    target = Target()
    target.setGeometry(QGuiApplication.primaryScreen().geometry())
    target.show()
    target.activateWindow()
    target.setFocus()
    pointer = PointerOverlay(idle_s=idle_s, fade_s=0.5)
    guide = KeyGuideOverlay("ja")
    border = ShareBorder()

    def screen_rect(monitor: int, available: bool) -> Any:
        number = screens_showing(monitor, monitors, qt_screen_areas())[0]
        screen = QGuiApplication.screens()[number]
        return screen.availableGeometry() if available else screen.geometry()

    def handle(command: dict[str, Any]) -> dict[str, Any]:
        if "pointer" in command:
            x, y, monitor, action = command["pointer"]
            pointer.apply(Pointer(action=action, x=x, y=y, monitor=monitor), monitors)
        if "key_guide" in command:
            spec = command["key_guide"]
            guide.show_guide(
                KeyGuide(keys=tuple(tuple(c) for c in spec["keys"]), caption=spec.get("caption", "")),
                screen_rect(spec.get("monitor", 0), True),
            )
        if command.get("clear"):
            guide.clear()
        if "border" in command:
            border.show_around([screen_rect(command["border"], False)])
        geometry = guide.geometry()
        focus = app.focusWidget()
        return {
            "monitors": [[m.x, m.y, m.width, m.height] for m in monitors],
            "pointer_visible": pointer.isVisible(),
            "guide": [geometry.x(), geometry.y(), geometry.width(), geometry.height()],
            "focus": focus.objectName() if focus is not None else None,
            "clicks": target.clicks,
            "ratio": QGuiApplication.primaryScreen().devicePixelRatio(),
        }

    def readable() -> None:
        line = sys.stdin.readline()
        if not line:
            app.quit()
            return
        answer = handle(json.loads(line))
        # Let the windows map, paint and the compositor blend before answering.
        QTimer.singleShot(250, lambda: print(json.dumps(answer), flush=True))

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(readable)
    QTimer.singleShot(300, lambda: print(json.dumps(handle({})), flush=True))
    app.exec()


# --- the test side ------------------------------------------------------------------------


class Probe:
    def __init__(self, display: str, scale: float, idle_s: float = 30.0) -> None:
        env = dict(
            os.environ,
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            QT_SCALE_FACTOR=str(scale),
            PROBE_IDLE_S=str(idle_s),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.functional.test_agent_ui_overlays"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        )
        self.state = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"probe exited with {self.proc.wait(5)}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def send(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        self.state = self._answer()
        return self.state

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def composited_dual() -> Iterator[str]:
    """Two RandR monitors side by side, with a compositing manager running."""
    from agent.ui.capture_exclusion import x11_compositing_active

    if shutil.which("xcompmgr") is None:
        pytest.fail("xcompmgr is not installed (scripts/apt-packages.txt)")
    with VirtualDisplay(monitors=MONITORS) as display:
        compositor = subprocess.Popen(
            ["xcompmgr"], env=dict(os.environ, DISPLAY=display.name), stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 5
            while not x11_compositing_active(display.name):
                assert time.monotonic() < deadline, "xcompmgr did not start"
                time.sleep(0.05)
            yield display.name
        finally:
            compositor.terminate()
            compositor.wait(5)


@pytest.fixture(scope="module", params=[1, 2], ids=["scale1", "scale2"])
def probe(request: pytest.FixtureRequest, composited_dual: str) -> Iterator[Probe]:
    p = Probe(composited_dual, request.param)
    yield p
    p.close()


def grab(display: str) -> npt.NDArray[np.uint8]:
    with create_source(display) as source:
        source.select(None)
        return np.asarray(source.grab().image)


def colour_mask(
    image: npt.NDArray[np.uint8], bgr: tuple[int, int, int], tolerance: int = 40
) -> npt.NDArray[np.bool_]:
    diff = np.abs(image[:, :, :3].astype(np.int16) - np.array(bgr, np.int16))
    mask: npt.NDArray[np.bool_] = np.all(diff <= tolerance, axis=2)
    return mask


def pointer_centre(display: str) -> tuple[float, float, int] | None:
    """Centre (x, y) and width of the pointer ring on screen, in physical pixels."""
    mask = colour_mask(grab(display), POINTER_BGR)
    ys, xs = np.nonzero(mask)
    if len(xs) < 50:
        return None
    return float(xs.min() + xs.max()) / 2, float(ys.min() + ys.max()) / 2, int(xs.max() - xs.min())


def expected_pixel(x: float, y: float, monitor: int) -> tuple[float, float]:
    if monitor == len(MONITORS):
        left, top = 0, 0
        width = max(mx + mw for mx, _, mw, _ in MONITORS)
        height = max(my + mh for _, my, _, mh in MONITORS)
        return left + x * width, top + y * height
    mx, my, mw, mh = MONITORS[monitor]
    return mx + x * mw, my + y * mh


@pytest.mark.parametrize(
    ("x", "y", "monitor"),
    [(0.25, 0.5, 0), (0.9, 0.1, 0), (0.5, 0.5, 1), (0.2, 0.8, 1), (0.8, 0.3, 2)],
    ids=["m0-left", "m0-corner", "m1-centre", "m1-low", "desktop"],
)
def test_pointer_circle_is_drawn_where_the_operator_points(
    probe: Probe, composited_dual: str, x: float, y: float, monitor: int
) -> None:
    assert probe.state["monitors"] == [list(m) for m in MONITORS]
    probe.send(pointer=[x, y, monitor, "move"])
    found = pointer_centre(composited_dual)
    assert found is not None, "no pointer circle on screen"
    cx, cy, _ = found
    ex, ey = expected_pixel(x, y, monitor)
    # One logical pixel of rounding at scale 2 is two physical pixels.
    tolerance = 1.5 + probe.state["ratio"]
    where = f"circle at ({cx}, {cy}), expected ({ex}, {ey}), scale {probe.state['ratio']}"
    assert abs(cx - ex) <= tolerance, where
    assert abs(cy - ey) <= tolerance, where


def test_pointer_is_click_through_and_takes_no_focus(probe: Probe, composited_dual: str) -> None:
    assert probe.state["focus"] == "target"
    state = probe.send(pointer=[0.5, 0.5, 0, "move"])
    assert state["pointer_visible"]
    ex, ey = expected_pixel(0.5, 0.5, 0)
    env = dict(os.environ, DISPLAY=composited_dual)
    subprocess.run(
        ["xdotool", "mousemove", str(round(ex)), str(round(ey)), "click", "1"], env=env, check=True
    )
    state = probe.send()
    ratio = state["ratio"]
    # The click went through the circle to the window below, at the circle's centre.
    assert state["clicks"], "the click did not reach the window under the pointer"
    lx, ly = state["clicks"][-1]
    assert abs(lx * ratio - ex) <= 2 * ratio
    assert abs(ly * ratio - ey) <= 2 * ratio
    assert state["focus"] == "target"


def test_click_shows_a_ripple(probe: Probe, composited_dual: str) -> None:
    probe.send(pointer=[0.3, 0.4, 0, "move"])
    time.sleep(0.7)  # any earlier ripple is over
    still = pointer_centre(composited_dual)
    probe.send(pointer=[0.3, 0.4, 0, "click"])
    rippling = pointer_centre(composited_dual)
    assert still is not None
    assert rippling is not None
    ratio = probe.state["ratio"]
    # The ripple ring grows beyond the circle (radius 22 logical) for 0.7 s after a click.
    assert rippling[2] > still[2] + 8 * ratio, (still, rippling)


def test_key_guide_near_the_bottom_with_the_keys_lit(probe: Probe, composited_dual: str) -> None:
    probe.send(pointer=[0.5, 0.5, 0, "hide"])
    state = probe.send(key_guide={"keys": [["Ctrl", "C"]], "caption": "コピーします", "monitor": 0})
    ratio = state["ratio"]
    gx, gy, gw, gh = (v * ratio for v in state["guide"])
    mx, my, mw, mh = MONITORS[0]
    assert mx <= gx
    assert gx + gw <= mx + mw
    assert my + mh - 80 * ratio <= gy + gh <= my + mh, "not near the bottom of the monitor"
    amber = colour_mask(grab(composited_dual), AMBER_BGR, tolerance=30)
    ys, xs = np.nonzero(amber)
    assert len(xs) > 2000, "no highlighted keys"
    assert xs.min() >= gx
    assert xs.max() <= gx + gw
    assert ys.min() >= gy
    assert ys.max() <= gy + gh
    probe.send(clear=True)
    assert colour_mask(grab(composited_dual), AMBER_BGR, tolerance=30).sum() < 50


def test_frame_around_the_shared_monitor(probe: Probe, composited_dual: str) -> None:
    probe.send(border=1)
    image = grab(composited_dual)
    mx, my, mw, mh = MONITORS[1]
    frame = colour_mask(image, SHARING_BGR, tolerance=20)
    for x, y in [
        (mx + 2, my + mh // 2),
        (mx + mw - 3, my + mh // 2),
        (mx + mw // 2, my + 2),
        (mx + mw // 2, my + mh - 3),
    ]:
        assert frame[y, x], f"no frame at ({x}, {y})"
    assert not frame[my + mh // 2, mx + mw // 2]
    assert not frame[MONITORS[0][3] // 2, 2], "the unshared monitor has no frame"


def test_idle_pointer_fades_away(composited_dual: str) -> None:
    probe = Probe(composited_dual, 1, idle_s=0.3)
    try:
        probe.send(pointer=[0.6, 0.6, 0, "move"])
        assert pointer_centre(composited_dual) is not None
        time.sleep(1.2)  # idle 0.3 s + fade 0.5 s
        assert pointer_centre(composited_dual) is None
        assert not probe.send()["pointer_visible"]
    finally:
        probe.close()


if __name__ == "__main__":
    _probe()
