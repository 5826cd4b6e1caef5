"""agent.track.ScreenTrack on a real Xvfb: pacing, pts, send-on-change, pause, monitor switch."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator

import av
import pytest
from aiortc.codecs.h264 import H264Encoder
from aiortc.mediastreams import MediaStreamError

from agent.capture import CapturedFrame, create_source
from agent.track import VIDEO_TIME_BASE, ScreenTrack
from testbed import stamp
from testbed.scene import STAMP_X, STAMP_Y, SceneProcess

pytestmark = pytest.mark.display


@pytest.fixture
async def track(xvfb: str) -> AsyncIterator[ScreenTrack]:
    t = ScreenTrack(create_source(xvfb), max_fps=30, keepalive_s=None)
    yield t
    t.stop()


async def _frames_within(track: ScreenTrack, seconds: float) -> int:
    """How many frames recv() returns in ``seconds``."""
    count = 0
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            await asyncio.wait_for(track.recv(), remaining)
        except TimeoutError:
            break
        count += 1
    return count


async def test_nothing_is_captured_before_the_first_recv(track: ScreenTrack) -> None:
    await asyncio.sleep(0.3)
    started_before = track.started
    assert not started_before
    assert track.stats.captured == 0
    assert not any(t.name == "madoguchi-grab" for t in threading.enumerate())
    frame = await asyncio.wait_for(track.recv(), 2)
    assert track.stats.captured >= 1
    assert track.started
    assert (frame.width, frame.height) == (1920, 1080)


async def test_moving_scene_frames_are_paced_with_increasing_pts(xvfb: str) -> None:
    seen: list[tuple[int | None, int]] = []

    def on_frame(captured: CapturedFrame, pts: int) -> None:
        seen.append((stamp.read_stamp(captured.image, x=STAMP_X, y=STAMP_Y), pts))

    track = ScreenTrack(create_source(xvfb), max_fps=20, keepalive_s=None, on_frame=on_frame)
    try:
        with SceneProcess(xvfb, "moving", fps=60):
            frames = [await asyncio.wait_for(track.recv(), 2) for _ in range(12)]
    finally:
        track.stop()
    assert all(isinstance(f, av.VideoFrame) and f.format.name == "bgra" for f in frames)
    assert all(f.time_base == VIDEO_TIME_BASE for f in frames)
    pts = [f.pts if f.pts is not None else -1 for f in frames]
    assert min(pts) >= 0
    assert pts == sorted(set(pts)), pts
    # 20 fps cap: frames are 50 ms = 4500 ticks apart on average. A grab that starts
    # late (a busy CPU) keeps the schedule, so one gap may shrink, but never to the
    # few milliseconds an unpaced loop would show.
    gaps = [b - a for a, b in itertools.pairwise(pts)]
    assert (pts[-1] - pts[0]) / len(gaps) >= 0.9 * 4500, gaps
    assert min(gaps) >= 0.4 * 4500, gaps
    assert [p for _, p in seen] == pts
    counters = [c if c is not None else -1 for c, _ in seen]
    assert min(counters) >= 0, counters  # every captured frame carries a readable stamp
    assert counters == sorted(set(counters)), counters
    assert track.stats.sent == 12


@pytest.mark.parametrize("watch_changes", [False, True], ids=["timer", "damage"])
async def test_static_screen_sends_nothing_until_it_changes(xvfb: str, watch_changes: bool) -> None:
    track = ScreenTrack(create_source(xvfb), max_fps=30, keepalive_s=None, watch_changes=watch_changes)
    scene = SceneProcess(xvfb, "static").start()
    try:
        await asyncio.wait_for(track.recv(), 2)
        assert track.watching_changes is watch_changes
        before = track.stats
        assert await _frames_within(track, 1.0) == 0
        after = track.stats
        assert after.sent == before.sent
        grabs = after.captured - before.captured
        assert after.skipped_unchanged - before.skipped_unchanged == grabs  # every grab was equal
        if watch_changes:
            assert grabs <= 2, grabs  # nothing drawn: only the once-a-second check
        else:
            assert grabs >= 20, grabs  # ~30 grabs/s
        pending = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0.2)
        assert not pending.done()
    finally:
        scene.stop()  # the scene window disappears: the screen changes
    try:
        frame = await asyncio.wait_for(pending, 2)
        assert frame.width == 1920
        assert track.stats.sent == before.sent + 1
    finally:
        track.stop()


async def test_keepalive_repeats_a_static_picture(xvfb: str) -> None:
    track = ScreenTrack(create_source(xvfb), keepalive_s=0.25, keepalive_max_s=0.25)
    try:
        with SceneProcess(xvfb, "static"):
            first = await asyncio.wait_for(track.recv(), 2)
            count = await _frames_within(track, 1.0)
    finally:
        track.stop()
    assert 3 <= count <= 5, count
    assert track.stats.keepalives == count
    assert first.pts == 0


async def test_keepalive_backs_off_and_a_keyframe_request_repeats_at_once(xvfb: str) -> None:
    track = ScreenTrack(create_source(xvfb), keepalive_s=0.2, keepalive_max_s=0.8)
    try:
        with SceneProcess(xvfb, "static"):
            await asyncio.wait_for(track.recv(), 2)
            started = time.monotonic()
            repeats = []
            for _ in range(4):
                await asyncio.wait_for(track.recv(), 2)
                repeats.append(round(time.monotonic() - started, 1))
            # 0.2, then 0.4, 0.8, 0.8 apart: cumulative ~0.2, 0.6, 1.4, 2.2
            assert repeats == pytest.approx([0.2, 0.6, 1.4, 2.2], abs=0.15), repeats
            pending = asyncio.ensure_future(track.recv())
            await asyncio.sleep(0.1)
            assert not pending.done()
            asked = time.monotonic()
            track.request_frame()
            frame = await asyncio.wait_for(pending, 2)
            assert time.monotonic() - asked < 0.1
            assert frame.width == 1920
    finally:
        track.stop()


async def test_pause_stops_capture_and_frames(xvfb: str, track: ScreenTrack) -> None:
    with SceneProcess(xvfb, "moving", fps=60):
        await asyncio.wait_for(track.recv(), 2)
        track.pause()
        assert track.paused
        captured = track.stats.captured
        assert await _frames_within(track, 0.6) == 0
        assert track.stats.captured - captured <= 1  # at most a grab already in progress
        track.resume()
        resumed_at = time.monotonic()
        frame = await asyncio.wait_for(track.recv(), 2)
        assert time.monotonic() - resumed_at < 0.5
        assert frame.width == 1920
        assert track.stats.captured > captured


async def test_monitor_switch_changes_the_next_frame_size(xvfb_dual: str) -> None:
    track = ScreenTrack(create_source(xvfb_dual), keepalive_s=None)
    try:
        first = await asyncio.wait_for(track.recv(), 2)
        assert (first.width, first.height) == (1280, 720)
        info = track.select(1)
        assert (info.width, info.height) == (800, 600)
        second = await asyncio.wait_for(track.recv(), 2)
        assert (second.width, second.height) == (800, 600)
        track.select(None)
        third = await asyncio.wait_for(track.recv(), 2)
        assert (third.width, third.height) == (2080, 720)
        assert [first.pts, second.pts, third.pts] == sorted({first.pts or 0, second.pts or 0, third.pts or 0})
    finally:
        track.stop()


async def test_frames_feed_aiortc_encoder(xvfb: str, track: ScreenTrack) -> None:
    frame = await asyncio.wait_for(track.recv(), 2)
    payloads, timestamp = H264Encoder().encode(frame)
    assert payloads
    assert timestamp == frame.pts


async def test_stop_ends_recv_and_the_thread(xvfb: str) -> None:
    track = ScreenTrack(create_source(xvfb), keepalive_s=None)
    await asyncio.wait_for(track.recv(), 2)
    pending = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.1)
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(pending, 2)
    with pytest.raises(MediaStreamError):
        await track.recv()
    assert track.readyState == "ended"
    assert not any(t.name == "madoguchi-grab" for t in threading.enumerate())
