"""The agent's cursor feed (throttle, change filter, shapes) and the cursor picture conversions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import protocol as p
from agent.capture.cursor_image import CursorImage, fit_cursor, from_premultiplied_argb, from_windows_bitmaps
from agent.cursor_feed import CursorFeed, CursorSample


def _image(serial: int = 7, side: int = 2) -> CursorImage:
    return CursorImage(serial=serial, width=side, height=side, hot_x=1, hot_y=0, rgba=bytes(side * side * 4))


def test_moves_are_sent_on_change_only() -> None:
    feed = CursorFeed(max_rate_hz=30)
    first = feed.update(CursorSample((0.5, 0.5), 0), 0.0)
    assert first == p.Cursor(x=0.5, y=0.5)
    assert feed.update(CursorSample((0.5, 0.5), 0), 1.0) is None  # resting: nothing
    assert feed.update(CursorSample((0.6, 0.5), 0), 2.0) == p.Cursor(x=0.6, y=0.5)
    assert feed.update(CursorSample((0.6, 0.5), 1), 3.0) == p.Cursor(x=0.6, y=0.5, monitor=1)
    assert feed.moves_sent == 3


def test_rate_is_capped_and_the_last_move_of_a_burst_goes_out() -> None:
    feed = CursorFeed(max_rate_hz=30)
    sent = []
    now = 0.0
    for i in range(100):  # 100 moves in one second, every 10 ms
        now = i * 0.01
        message = feed.update(CursorSample((i / 100, 0.5), 0), now) or feed.flush(now)
        if message is not None:
            sent.append((now, message))
    due = feed.due_in(now)
    assert due is not None
    last = feed.flush(now + due)
    assert last is not None
    sent.append((now + due, last))
    assert len(sent) <= 31
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 1 / 30 - 1e-9
    assert sent[-1][1].x == 0.99  # trailing edge: where the mouse stopped


def test_leaving_the_area_is_said_once() -> None:
    feed = CursorFeed()
    feed.update(CursorSample((0.1, 0.1), 0), 0.0)
    assert feed.update(CursorSample(None, 0), 1.0) == p.Cursor(visible=False)
    assert feed.update(CursorSample(None, 0), 2.0) is None


def test_nothing_while_paused_and_everything_again_after() -> None:
    feed = CursorFeed()
    feed.update(CursorSample((0.1, 0.1), 0, serial=7), 0.0)
    feed.pause()
    assert feed.update(CursorSample((0.2, 0.1), 0, serial=8), 1.0) is None
    assert not feed.wants_image(8)
    assert feed.due_in(1.0) is None
    feed.resume()
    # Same position as before the pause: sent anyway, the console hid the cursor.
    feed.update(CursorSample((0.1, 0.1), 0), 2.0)
    assert feed.last_sent == p.Cursor(x=0.1, y=0.1)
    assert feed.update(CursorSample((0.1, 0.1), 0), 2.1) is None


def test_a_shape_is_sent_once_per_change_and_named_by_the_next_move() -> None:
    feed = CursorFeed()
    assert feed.wants_image(7)
    assert not feed.wants_image(None)  # the OS cannot tell: nothing to ask
    shape = feed.shape(_image(7))
    assert shape is not None
    assert (shape.id, shape.width, shape.hot_x) == (1, 2, 1)
    assert not feed.wants_image(7)
    assert feed.update(CursorSample((0.1, 0.1), 0, 7), 0.0) == p.Cursor(x=0.1, y=0.1, shape=1)
    assert feed.wants_image(9)
    second = feed.shape(_image(9))
    assert second is not None
    assert second.id == 2
    # The position did not change, but the shape did: the move names the new shape.
    assert feed.update(CursorSample((0.1, 0.1), 0, 9), 1.0) == p.Cursor(x=0.1, y=0.1, shape=2)
    assert feed.shapes_sent == 2


def test_a_large_cursor_is_scaled_to_fit_the_wire_limit() -> None:
    feed = CursorFeed()
    shape = feed.shape(
        CursorImage(serial=1, width=200, height=100, hot_x=199, hot_y=50, rgba=bytes(200 * 100 * 4))
    )
    assert shape is not None
    assert (shape.width, shape.height, shape.scale) == (50, 25, 4.0)
    assert (shape.hot_x, shape.hot_y) == (49, 12)


def test_fit_keeps_small_cursors() -> None:
    image = _image(side=64)
    assert fit_cursor(image, 64) is image


def test_xfixes_pixels_are_unpremultiplied() -> None:
    # ARGB words: opaque red, half-transparent white (premultiplied 0x80), transparent.
    words = np.array([0xFFFF0000, 0x80808080, 0x00000000], dtype=np.uint32)
    rgba = np.frombuffer(from_premultiplied_argb(words, 3, 1), dtype=np.uint8).reshape(3, 4)
    assert rgba[0].tolist() == [255, 0, 0, 255]
    assert rgba[1].tolist() == [255, 255, 255, 128]
    assert rgba[2].tolist() == [0, 0, 0, 0]


def _dib(bits: list[list[int]]) -> bytes:
    """Mask rows as GetDIBits returns a monochrome bitmap at 32 bpp: 0 black, 1 white."""
    return b"".join(bytes([255, 255, 255, 0]) if b else bytes(4) for row in bits for b in row)


def test_a_monochrome_windows_cursor() -> None:
    # 2x2 I-beam style: AND rows then XOR rows; one pixel of each kind.
    and_mask = [[0, 0], [1, 1]]
    xor_mask = [[0, 1], [0, 1]]
    rgba = np.frombuffer(from_windows_bitmaps(None, _dib(and_mask + xor_mask), 2, 2), dtype=np.uint8)
    pixels = rgba.reshape(2, 2, 4).tolist()
    assert pixels[0][0] == [0, 0, 0, 255]  # black
    assert pixels[0][1] == [255, 255, 255, 255]  # white
    assert pixels[1][0][3] == 0  # transparent
    assert pixels[1][1] == [0, 0, 0, 255]  # inverting: shown black


def test_a_colour_windows_cursor_with_and_without_alpha() -> None:
    colour = bytes([10, 20, 30, 200, 1, 2, 3, 0])  # BGRA, 2x1
    rgba = from_windows_bitmaps(colour, _dib([[0, 1]]), 2, 1)
    assert list(rgba) == [30, 20, 10, 200, 3, 2, 1, 0]  # real alpha wins
    no_alpha = bytes([10, 20, 30, 0, 1, 2, 3, 0])
    rgba = from_windows_bitmaps(no_alpha, _dib([[0, 1]]), 2, 1)
    assert list(rgba) == [30, 20, 10, 255, 3, 2, 1, 0]  # alpha from the AND mask


def test_wrong_bitmap_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="mask"):
        from_windows_bitmaps(None, bytes(4), 2, 2)
