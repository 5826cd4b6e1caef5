"""agent.capture.change: the cheap "did the screen change?" test."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.capture import ChangeDetector, changed_rows, images_equal

Image = npt.NDArray[np.uint8]


def _screen(height: int = 270, width: int = 480, seed: int = 0) -> Image:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)


def test_equal_copies_and_the_same_object() -> None:
    a = _screen()
    assert images_equal(a, a)
    assert images_equal(a, a.copy())


@settings(max_examples=300)
@given(y=st.integers(0, 269), x=st.integers(0, 479), channel=st.integers(0, 3))
def test_any_single_byte_change_is_seen(y: int, x: int, channel: int) -> None:
    # Most positions are on rows the sparse pre-check skips: the full pass must catch them.
    a = _screen()
    b = a.copy()
    b[y, x, channel] ^= 1
    assert not images_equal(a, b)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (17, 33), (1080, 1921)])
def test_odd_sizes(height: int, width: int) -> None:
    a = _screen(height, width)
    b = a.copy()
    assert images_equal(a, b)
    b[-1, -1, 2] ^= 0x80
    assert not images_equal(a, b)


def test_shape_change_is_a_change() -> None:
    assert not images_equal(_screen(270, 480), _screen(270, 481))
    assert not images_equal(np.zeros((4, 8, 4), np.uint8), np.zeros((8, 4, 4), np.uint8))


def test_non_contiguous_views() -> None:
    big = _screen(100, 200)
    a = big[10:60, 20:120]
    b = a.copy()
    assert images_equal(a, b)
    b[49, 99, 0] ^= 1
    assert not images_equal(a, b)


def test_detector_sequence_and_reset() -> None:
    detector = ChangeDetector()
    a = _screen(seed=1)
    b = _screen(seed=2)
    first = detector.change(a)  # the first image always counts as new, wholly
    assert first is not None
    assert first.since is None
    assert first.rows == (0, a.shape[0])
    assert detector.change(a.copy()) is None
    second = detector.change(b)
    assert second is not None
    assert second.since is not None
    assert changed_rows(a, b) == second.rows
    assert detector.change(b) is None
    detector.reset()
    forced = detector.change(b)  # forced once after a reset (resume, monitor switch)
    assert forced is not None
    assert forced.since is None
    assert detector.change(b) is None
