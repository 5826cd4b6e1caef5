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

from agent.capture import CapturedFrame, CaptureError, Grabber, ScreenSource, create_source, factory
from agent.capture.downscale import Downscaler
from agent.capture.measure import measure
from agent.capture.mss_backend import MssSource
from agent.capture.xshm import ShmSegmentGrabber, XShmSource
from agent.ui.screens import ScreenArea, map_pointer
from protocol import MonitorInfo
from testbed.scene import SceneProcess
from testbed.xvfb import VirtualDisplay
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
    # The frame owns its pixels: the next grab (into the same shared segment) leaves it alone.
    again = source.grab()
    assert not np.shares_memory(frame.image, again.image)


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
        "grab_mss_full_size",
        "shrink_by_2_libyuv",
        "shrink_by_2_numpy",
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


# --- MIT-SHM grabs and large screens ------------------------------------------------


@pytest.fixture(scope="module")
def xvfb_4k() -> Iterator[str]:
    """A 3840x2160 screen (a 4K laptop at 200 %)."""
    with VirtualDisplay(screens=[(3840, 2160)]) as display:
        yield display.name


def _settled(source: ScreenSource, reference: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Grabs until the picture scene is fully painted (RGB equal to ``reference``)."""
    deadline = time.monotonic() + 10
    while True:
        image = source.grab().image
        if np.array_equal(image[..., 2::-1], reference) or time.monotonic() > deadline:
            return image
        time.sleep(0.05)


def test_factory_grabs_through_mit_shm_and_falls_back_to_mss(xvfb: str) -> None:
    with create_source(xvfb) as shm, create_source(xvfb, shared_memory=False) as plain:
        assert type(shm) is XShmSource
        assert type(plain) is MssSource
    # A display without MIT-SHM (like a remote one): the factory falls back to mss.
    with VirtualDisplay(screens=[(640, 480)], without=("MIT-SHM",)) as display:
        with pytest.raises(OSError):
            XShmSource(display.name)
        with create_source(display.name) as src:
            assert type(src) is MssSource
            assert src.grab().image.shape == (480, 640, 4)


def test_xshm_grab_equals_mss_grab_1080p(xvfb: str, tmp_path: Path) -> None:
    reference = _reference_picture(tmp_path, 1920, 1080)
    segment = ShmSegmentGrabber(xvfb)
    try:
        with XShmSource(xvfb) as shm, MssSource(xvfb) as plain, SceneProcess(xvfb, "picture"):
            image = _settled(plain, reference)
            assert np.array_equal(image[..., 2::-1], reference)
            raw = segment.grab(0, 0, 1920, 1080)
            assert np.array_equal(raw, image)  # alpha byte included
            assert not raw.flags.writeable
            # 1080p is never shrunk (and is grabbed through mss: nothing to save at full size).
            frame = shm.grab()
            assert frame.image.shape == (1080, 1920, 4)
            assert np.array_equal(frame.image, image)
            assert not np.shares_memory(frame.image, segment.grab(0, 0, 1920, 1080))
    finally:
        segment.close()
        segment.close()  # idempotent


def test_xshm_segment_follows_areas_of_any_size(xvfb_dual: str) -> None:
    segment = ShmSegmentGrabber(xvfb_dual)
    try:
        with MssSource(xvfb_dual) as plain:
            for index in (1, None, 0):  # small, then larger (the segment grows), then back
                area = plain.select(index)
                raw = segment.grab(area.x, area.y, area.width, area.height)
                assert raw.shape == (area.height, area.width, 4)
                assert np.array_equal(raw, plain.grab().image)
            segment.release_segment()  # as XShmSource does for a screen it does not shrink
            assert np.array_equal(segment.grab(area.x, area.y, area.width, area.height), plain.grab().image)
    finally:
        segment.close()


def test_4k_screen_is_grabbed_exactly_and_shrunk_by_two(xvfb_4k: str, tmp_path: Path) -> None:
    reference = _reference_picture(tmp_path, 3840, 2160)
    segment = ShmSegmentGrabber(xvfb_4k)
    try:
        with (
            MssSource(xvfb_4k, min_picture=None) as full_mss,
            XShmSource(xvfb_4k) as shrunk_shm,
            MssSource(xvfb_4k) as shrunk_mss,
            SceneProcess(xvfb_4k, "picture"),
        ):
            full = _settled(full_mss, reference)
            assert np.array_equal(full[..., 2::-1], reference)
            assert np.array_equal(segment.grab(0, 0, 3840, 2160), full)
            frame = shrunk_shm.grab()
            # The operator's view size, by a whole factor, and the monitor still in screen pixels.
            assert frame.image.shape == (1080, 1920, 4)
            assert frame.monitor == MonitorInfo(index=0, x=0, y=0, width=3840, height=2160, primary=True)
            assert shrunk_shm.monitors() == [frame.monitor]
            assert not frame.image.flags.writeable
            expected = Downscaler().shrink(full, 2)
            assert np.array_equal(frame.image, expected)
            assert np.array_equal(shrunk_mss.grab().image, expected)  # the mss fallback shrinks alike
            # The frame owns its pixels: the next grab into the segment leaves it alone.
            again = shrunk_shm.grab().image
            assert np.array_equal(again, frame.image)
            assert not np.shares_memory(again, frame.image)
    finally:
        segment.close()


def test_without_libyuv_a_4k_screen_is_grabbed_whole(xvfb_4k: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Windows build ships no libyuv: numpy's shrink would cost more than the encoder's
    # scaling it replaces, so the picture stays full size and the encoder scales it.
    with create_source(xvfb_4k) as shrunk:
        assert shrunk.grab().image.shape == (1080, 1920, 4)
    monkeypatch.setattr(factory, "libyuv_available", lambda: False)
    with create_source(xvfb_4k) as whole:
        assert whole.grab().image.shape == (2160, 3840, 4)


def test_4k_cursor_and_operator_pointer_map_by_the_whole_factor(xvfb_4k: str) -> None:
    with XShmSource(xvfb_4k) as src:
        _xdotool(xvfb_4k, "mousemove", "1001", "603")
        assert src.cursor() == (500, 301)  # even before the first grab
        src.grab()
        # The cursor in the picture's pixels: the screen position divided by 2.
        assert src.cursor() == (500, 301)
        # Normalised from the screen position itself, not rounded to the picture's pixels.
        assert src.cursor_normalised() == (1001 / 3840, 603 / 2160)
        _xdotool(xvfb_4k, "mousemove", "3839", "2159")
        assert src.cursor() == (1919, 1079)

        # The operator points at the centre of picture pixel (500, 301) of the 1920x1080
        # picture; the pointer lands inside that pixel's 2x2 block of the real screen.
        monitors = src.monitors()
        screen = [ScreenArea(x=0, y=0, width=3840, height=2160)]
        point = map_pointer(500.5 / 1920, 301.5 / 1080, 0, monitors, screen)
        assert point is not None
        assert (point.x, point.y) == (1001.0, 603.0)
        assert 2 * 500 <= point.x < 2 * 500 + 2
        assert 2 * 301 <= point.y < 2 * 301 + 2
        # The customer's cursor, sent normalised, comes back to its screen pixel.
        nx, ny = src.cursor_normalised() or (0.0, 0.0)
        back = map_pointer(nx, ny, 0, monitors, screen)
        assert back is not None
        assert (round(back.x), round(back.y)) == (3839, 2159)
