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
PAUSED_BGR = (0x6B, 0x59, 0x44)
"""sharing_bar.PAUSED (#44596B): the paused card."""


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
    from agent.ui.screens import guide_area, qt_screen_areas, screens_showing
    from agent.ui.sharing_bar import SharingBar
    from agent.ui.theme import apply_theme
    from protocol import KeyGuide, OperatorIdentity, Pointer

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
    bar = SharingBar()

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
            if "shared" in spec:  # as the controller does: the shared screen pointed at
                where = pointer.position.screen if pointer.position is not None else None
                area = guide_area(spec["shared"], monitors, where)
                assert area is not None
            else:
                area = screen_rect(spec.get("monitor", 0), True)
            guide.show_guide(
                KeyGuide(keys=tuple(tuple(c) for c in spec["keys"]), caption=spec.get("caption", "")),
                area,
            )
        if "bar" in command:
            spec = command["bar"]
            bar.start(
                OperatorIdentity(display_name="佐藤 花子", organisation="窓口"), monitors, spec["monitor"]
            )
            bar.place_on(screen_rect(spec["monitor"], True))
            bar.set_paused(spec.get("paused", False))
            bar.show()
        if command.get("bar_hide"):
            bar.stop()
        if command.get("clear"):
            guide.clear()
        if "border" in command:
            border.show_around([screen_rect(command["border"], False)])
        geometry = guide.geometry()
        bar_geometry = bar.frameGeometry()
        focus = app.focusWidget()
        return {
            "monitors": [[m.x, m.y, m.width, m.height] for m in monitors],
            "pointer_visible": pointer.isVisible(),
            "guide": [geometry.x(), geometry.y(), geometry.width(), geometry.height()],
            "bar": [bar_geometry.x(), bar_geometry.y(), bar_geometry.width(), bar_geometry.height()],
            "screens": [
                [g.x(), g.y(), g.width(), g.height()]
                for g in (s.geometry() for s in QGuiApplication.screens())
            ],
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


# --- the sharing card and the guide stay out of the way, on the shared monitor (issue 18, item 6) ---


def _in_physical(state: dict[str, Any], key: str) -> tuple[float, float, float, float]:
    """A window's logical geometry in screen pixels. Qt keeps a screen's top left corner
    at its device position and scales from there, so map relative to the screen."""
    ratio = state["ratio"]
    x, y, w, h = state[key]
    sx, sy, sw, sh = next(g for g in state["screens"] if g[0] <= x < g[0] + g[2] and g[1] <= y < g[1] + g[3])
    del sw, sh
    return sx + (x - sx) * ratio, sy + (y - sy) * ratio, w * ratio, h * ratio


def test_sharing_card_sits_low_on_the_shared_monitor(probe: Probe, composited_dual: str) -> None:
    state = probe.send(bar={"monitor": 1})
    bx, by, bw, bh = _in_physical(state, "bar")
    mx, my, mw, mh = MONITORS[1]
    assert mx <= bx, "not on the shared monitor"
    assert bx + bw <= mx + mw, "not on the shared monitor"
    # At scale 2 this monitor is 400x300 logical: the card is low, but it cannot be in the bottom half.
    top_share = 0.5 if state["ratio"] == 1 else 0.25
    assert by >= my + mh * top_share, "the card covers the top (the browser's tabs and address bar)"
    assert by + bh <= my + mh
    assert by + bh >= my + mh - 40 * state["ratio"], "not at the bottom"
    assert bx + bw >= mx + mw - 40 * state["ratio"], "not in the right-hand corner"
    assert bw <= 340 * state["ratio"]
    image = grab(composited_dual)
    orange = colour_mask(image, SHARING_BGR, tolerance=20)
    _, xs = np.nonzero(orange[: my + mh, mx : mx + mw])
    assert len(xs) > 500
    top = round(my + mh * top_share)
    assert not orange[my + 40 : top, mx + 20 : mx + mw - 20].any(), "orange near the top"

    # Paused: calm slate, in the same corner.
    state = probe.send(bar={"monitor": 1, "paused": True})
    px, py, pw, ph = _in_physical(state, "bar")
    assert abs((px + pw) - (bx + bw)) <= 2 * state["ratio"]
    assert abs((py + ph) - (by + bh)) <= 2 * state["ratio"]
    image = grab(composited_dual)
    card = image[round(py) : round(py + ph), round(px) : round(px + pw)]
    assert colour_mask(card, PAUSED_BGR, tolerance=12).sum() > 0.3 * card.shape[0] * card.shape[1]
    assert colour_mask(card, SHARING_BGR, tolerance=20).sum() < 50
    probe.send(bar_hide=True)


def test_key_guide_goes_where_the_operator_points_and_leaves_most_of_it_visible(
    probe: Probe, composited_dual: str
) -> None:
    # "All screens" shared; the operator points at the second monitor, then asks for Ctrl+C.
    probe.send(pointer=[0.5, 0.4, 2, "move"])
    probe.send(pointer=[0.9, 0.5, 2, "move"])
    state = probe.send(key_guide={"keys": [["Ctrl", "C"]], "caption": "コピーします", "shared": 2})
    gx, _, gw, gh = _in_physical(state, "guide")
    mx, _, mw, mh = MONITORS[1]
    assert mx <= gx, f"guide at {state['guide']} is not on monitor 2"
    assert gx + gw <= mx + mw, f"guide at {state['guide']} is not on monitor 2"
    if state["ratio"] == 1:  # at scale 2 this monitor is 400x300 logical: no room for 14 px labels
        assert gh <= 0.5 * mh + 2, "the guide covers more than half of an 800x600 screen"
    amber = colour_mask(grab(composited_dual), AMBER_BGR, tolerance=30)
    _, xs = np.nonzero(amber)
    assert len(xs) > 500, "no highlighted keys"
    assert xs.min() >= mx, "keys lit on the other monitor"
    probe.send(clear=True, pointer=[0.5, 0.5, 0, "hide"])
