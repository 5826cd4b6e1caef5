"""agent.capture on a real Xvfb with real mss: monitors, pixels, cursor, grabber thread."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from agent.capture import CapturedFrame, CaptureError, Grabber, ScreenSource, create_source
from agent.capture.measure import measure
from protocol import MonitorInfo
from testbed.scene import SceneProcess
from tests.conftest import DUAL_MONITORS

pytestmark = pytest.mark.display


@pytest.fixture
def source(xvfb: str) -> Iterator[ScreenSource]:
    with create_source(xvfb) as src:
        yield src


def _reference_picture(tmp_path: Path, width: int, height: int) -> npt.NDArray[np.uint8]:
    # Rendered in a child process so this test process never creates a Qt application.
    out = tmp_path / "reference.npy"
    code = (
        "import sys, numpy; from testbed.scene import render_picture; "
        f"numpy.save(sys.argv[1], render_picture({width}, {height}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env, timeout=60)
    reference: npt.NDArray[np.uint8] = np.load(out)
    return reference


def _xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, env=dict(os.environ, DISPLAY=display), timeout=10)


def test_single_monitor(source: ScreenSource) -> None:
    assert source.monitors() == [MonitorInfo(index=0, x=0, y=0, width=1920, height=1080, primary=True)]
    assert source.selected == source.monitors()[0]
    before = time.monotonic()
    frame = source.grab()
    assert before <= frame.captured_at <= time.monotonic()
    assert frame.image.shape == (1080, 1920, 4)
    assert frame.image.dtype == np.uint8
    assert (frame.width, frame.height) == (1920, 1080)
    assert frame.monitor == source.selected
    assert not frame.image.flags.writeable
    assert frame.image.flags.c_contiguous
    # A view over the mss buffer, not a copy of it.
    assert frame.image.base is not None


def test_picture_scene_is_captured_exactly(xvfb: str, source: ScreenSource, tmp_path: Path) -> None:
    reference = _reference_picture(tmp_path, 1920, 1080)
    with SceneProcess(xvfb, "picture"):
        deadline = time.monotonic() + 5
        while True:
            rgb = source.grab().image[..., 2::-1]
            differing = int(np.count_nonzero((rgb != reference).any(axis=2)))
            if differing == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert differing == 0, f"{differing} pixels differ from the reference picture"


def test_cursor_position(xvfb: str, source: ScreenSource) -> None:
    _xdotool(xvfb, "mousemove", "123", "456")
    assert source.cursor() == (123, 456)
    _xdotool(xvfb, "mousemove", "1919", "0")
    assert source.cursor() == (1919, 0)


def test_unsupported_platform_and_closed_source(xvfb: str) -> None:
    with pytest.raises(CaptureError) as info:
        create_source(platform="sunos5")
    assert info.value.operation == "open"
    src = create_source(xvfb)
    src.close()
    src.close()  # idempotent
    with pytest.raises(CaptureError):
        src.grab()


def test_no_display_is_a_capture_error() -> None:
    with pytest.raises(CaptureError):
        create_source(":9999")


def test_dual_monitors(xvfb_dual: str) -> None:
    with create_source(xvfb_dual) as src:
        monitors = src.monitors()
        assert [(m.index, m.x, m.y, m.width, m.height, m.primary) for m in monitors] == [
            (i, x, y, w, h, i == 0) for i, (x, y, w, h) in enumerate(DUAL_MONITORS)
        ]
        assert src.selected == monitors[0]  # the primary by default
        assert src.grab().image.shape == (720, 1280, 4)

        assert src.select(1) == monitors[1]
        frame = src.grab()
        assert frame.image.shape == (600, 800, 4)
        assert frame.monitor == monitors[1]

        desktop = src.select(None)
        assert (desktop.index, desktop.x, desktop.y, desktop.width, desktop.height) == (2, 0, 0, 2080, 720)
        assert src.grab().image.shape == (720, 2080, 4)
        assert src.select(2) == desktop  # the desktop's own index selects it too

        with pytest.raises(CaptureError):
            src.select(3)
        assert src.selected == desktop  # a bad index changes nothing


def test_dual_monitor_cursor_is_relative_to_the_shared_monitor(xvfb_dual: str) -> None:
    with create_source(xvfb_dual) as src:
        src.select(1)
        _xdotool(xvfb_dual, "mousemove", str(1280 + 50), "60")
        assert src.cursor() == (50, 60)
        _xdotool(xvfb_dual, "mousemove", "10", "10")
        assert src.cursor() is None  # on the other monitor
        src.select(0)
        assert src.cursor() == (10, 10)


async def test_grabber_thread_paces_and_keeps_only_the_latest(source: ScreenSource) -> None:
    grabber = Grabber(source, fps=20)
    grabber.start()
    assert any(t.name == "madoguchi-grab" for t in threading.enumerate())
    await asyncio.sleep(0.5)
    # Nobody consumed: the bounded queue holds only the newest frame.
    assert grabber.queue.qsize() == 1
    assert 6 <= grabber.grabs <= 12, grabber.grabs
    assert grabber.dropped == grabber.grabs - 1
    latest = grabber.queue.get_nowait()
    assert isinstance(latest, CapturedFrame)
    assert time.monotonic() - latest.captured_at < 0.2

    grabber.pause()
    paused_at = grabber.grabs
    await asyncio.sleep(0.3)
    assert grabber.grabs - paused_at <= 1  # at most the grab in progress
    assert grabber.queue.empty()

    grabber.resume()
    item = await asyncio.wait_for(grabber.queue.get(), 2)
    assert isinstance(item, CapturedFrame)

    grabber.stop()
    assert not grabber.running
    assert not any(t.name == "madoguchi-grab" for t in threading.enumerate())
    # The consumer is woken with None after the last frame.
    items = [grabber.queue.get_nowait() for _ in range(grabber.queue.qsize())]
    assert items[-1] is None


async def test_grabber_reports_a_dead_source(xvfb: str) -> None:
    src = create_source(xvfb)
    grabber = Grabber(src, fps=50)
    src.close()  # every grab now fails
    grabber.start()
    item = await asyncio.wait_for(grabber.queue.get(), 2)
    assert isinstance(item, CaptureError)
    grabber.stop()


def test_measure_tool_reports_every_figure(xvfb: str) -> None:
    results = measure(xvfb, repeat=3)
    assert results.pop("area") == "1920x1080"
    assert set(results) == {
        "grab",
        "cursor_query",
        "change_test_unchanged",
        "change_test_one_pixel_changed",
        "wrap_from_numpy_buffer",
        "copy_from_ndarray",
        "bgra_to_yuv420p",
    }
    for figures in results.values():
        assert isinstance(figures, dict)
        assert 0 < figures["median_ms"] <= figures["p95_ms"]
