"""X DAMAGE change notifications on a real Xvfb, and a track that grabs only when told."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import pytest

from agent.capture import CapturedFrame, create_change_notifier, create_source
from agent.capture.damage import X11DamageNotifier
from agent.track import ScreenTrack
from testbed import stamp
from testbed.scene import SceneProcess

pytestmark = pytest.mark.display


def test_damage_notifies_drawing_and_nothing_else(xvfb: str) -> None:
    notifier = create_change_notifier(xvfb)
    assert isinstance(notifier, X11DamageNotifier)
    try:
        with SceneProcess(xvfb, "static"):
            while notifier.wait(0.3):
                pass  # the scene window appearing: drain it
            started = time.process_time()
            assert not notifier.wait(0.5)  # nothing drawn: a quiet, cheap wait
            assert time.process_time() - started < 0.05
        # The scene window closing exposes what was under it: that is drawing.
        assert notifier.wait(2.0)
        with SceneProcess(xvfb, "moving", fps=30):
            changes = sum(notifier.wait(0.2) for _ in range(10))
        assert changes >= 5
    finally:
        notifier.close()
        notifier.close()  # idempotent


def test_no_notifier_without_a_display() -> None:
    assert create_change_notifier(":999") is None


async def test_track_grabs_a_change_at_once_not_on_the_next_tick(xvfb: str, tmp_path: Path) -> None:
    """At 2 fps a timer-driven grab would come ~250 ms late on average; DAMAGE grabs at once."""
    painted = tmp_path / "painted.txt"
    captured: dict[int, float] = {}

    def on_frame(frame: CapturedFrame, pts: int) -> None:
        value = stamp.read_stamp(frame.image)
        if value is not None:
            captured.setdefault(value, frame.captured_at)

    track = ScreenTrack(create_source(xvfb), max_fps=2, keepalive_s=None, on_frame=on_frame)
    try:
        with SceneProcess(xvfb, "rare", fps=1.5, stamp_file=str(painted)):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                await asyncio.wait_for(track.recv(), 3)
            assert track.watching_changes
    finally:
        track.stop()
    paints = {int(v): float(t) for v, t in (line.split() for line in painted.read_text().splitlines())}
    delays = [captured[v] - paints[v] for v in paints if v in captured and v > 0]
    assert len(delays) >= 4, (paints, captured)
    assert statistics.median(delays) < 0.15, delays
