"""testbed.scene on a real Xvfb: readiness, stamps, a static mode that is static, SIGTERM."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agent.capture import ScreenSource, create_source, images_equal
from testbed import stamp
from testbed.scene import STAMP_X, STAMP_Y, SceneError, SceneProcess

pytestmark = pytest.mark.display


def _stamps(source: ScreenSource, count: int, interval: float) -> list[int | None]:
    values = []
    for _ in range(count):
        values.append(stamp.read_stamp(source.grab().image, x=STAMP_X, y=STAMP_Y))
        time.sleep(interval)
    return values


@pytest.mark.parametrize("mode", ["moving", "typing", "scroll"])
def test_stamped_modes_count_repaints(xvfb: str, tmp_path: Path, mode: str) -> None:
    stamp_file = tmp_path / "stamps.txt"
    with create_source(xvfb) as source, SceneProcess(xvfb, mode, fps=50, stamp_file=str(stamp_file)) as scene:
        first = source.grab().image
        values = _stamps(source, 5, 0.1)
        last = source.grab().image
        status = scene.stop()
    assert status == 0  # SIGTERM is a clean exit
    assert None not in values, values
    steps = [b - a for a, b in itertools.pairwise(values) if a is not None and b is not None]
    # 50 repaints/s sampled every ~0.1 s: a few counts per sample, always forward.
    assert all(1 <= s <= 15 for s in steps), values
    assert not images_equal(first, last)
    lines = stamp_file.read_text().split()
    recorded = dict(zip(map(int, lines[0::2]), map(float, lines[1::2]), strict=True))
    assert all(v in recorded for v in values if v is not None)
    times = [recorded[v] for v in values if v is not None]
    assert times == sorted(times)


@pytest.mark.parametrize("mode", ["static", "picture"])
def test_unstamped_modes_do_not_change(xvfb: str, mode: str) -> None:
    with create_source(xvfb) as source, SceneProcess(xvfb, mode):
        time.sleep(0.2)
        first = source.grab().image
        time.sleep(0.5)
        second = source.grab().image
    assert stamp.read_stamp(first, x=STAMP_X, y=STAMP_Y) is None
    assert images_equal(first, second)
    assert np.count_nonzero(first[..., :3]) > 0  # something was painted


def test_geometry_limits_the_window(xvfb: str) -> None:
    with create_source(xvfb) as source:
        before = source.grab().image
        with SceneProcess(xvfb, "moving", geometry=(320, 160, 640, 480)):
            image = source.grab().image
            assert stamp.read_stamp(image, x=320 + STAMP_X, y=160 + STAMP_Y) is not None
    # Outside the window nothing changed.
    assert images_equal(before[:160], image[:160])
    assert images_equal(before[:, 960:], image[:, 960:])
    assert not images_equal(before[160:640, 320:960], image[160:640, 320:960])


def test_sigterm_on_the_program(xvfb: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "testbed.scene", "--mode", "typing"],
        env=dict(os.environ, DISPLAY=xvfb, QT_QPA_PLATFORM="xcb"),
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    proc.stdout.close()


def test_a_failing_scene_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SceneError):
        SceneProcess(":9999", "moving", ready_timeout=10).start()
    with pytest.raises(ValueError):
        SceneProcess(":0", "dance")
