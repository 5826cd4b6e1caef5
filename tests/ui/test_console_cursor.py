"""The customer's mouse cursor drawn over the picture in the console's video view (offscreen)."""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from operator_console.cursor import CursorState, ShapePicture
from operator_console.ui.pointer import ViewMode
from operator_console.ui.video_view import VideoView

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PICTURE_W, PICTURE_H = 400, 300
RED = (255, 0, 0)


def red_square(side: int = 4, hot: int = 1) -> ShapePicture:
    """An opaque red square whose hotspot is one pixel in from its top-left corner."""
    return ShapePicture(
        id=5,
        width=side,
        height=side,
        hot_x=hot,
        hot_y=hot,
        scale=1.0,
        rgba=bytes([255, 0, 0, 255]) * side * side,
    )


@pytest.fixture
def view(qtbot: QtBot) -> VideoView:
    widget = VideoView()
    qtbot.addWidget(widget)
    widget.resize(800, 700)  # a 400x300 picture fits at scale 2, letterboxed 50 px top and bottom
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_frame(np.full((PICTURE_H, PICTURE_W, 3), 40, dtype=np.uint8))
    return widget


def shown(view: VideoView) -> npt.NDArray[np.uint8]:
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    return rows[:, : 3 * width].reshape(height, width, 3).copy()  # a copy: the QImage dies here


def red_box(pixels: npt.NDArray[np.uint8]) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pure red pixels, or None."""
    mask = (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    ys, xs = np.nonzero(mask)
    return None if xs.size == 0 else (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def test_the_shape_is_drawn_at_its_hotspot_at_the_pictures_scale(view: VideoView) -> None:
    assert red_box(shown(view)) is None
    # The hotspot at picture pixel (100, 150); the customer's screen is as wide as the picture.
    view.set_remote_cursor(
        CursorState(visible=True, x=0.25, y=0.5, shape=red_square(), version=1, area_width=400)
    )
    area = view.picture_area()
    assert (area.x, area.y, area.width) == (0.0, 50.0, 800.0)
    hot_x, hot_y = 100 * 2, 50 + 150 * 2
    # 4x4 screen pixels at scale 2 = 8x8 view pixels, starting one screen pixel (2 px) before the hotspot.
    assert red_box(shown(view)) == (hot_x - 2, hot_y - 2, hot_x + 6, hot_y + 6)


def test_a_video_smaller_than_the_screen_shrinks_the_cursor_too(view: VideoView) -> None:
    # The customer's screen is 800 px wide, sent as a 400 px picture: the cursor is half as big.
    view.set_remote_cursor(
        CursorState(visible=True, x=0.25, y=0.5, shape=red_square(), version=1, area_width=800)
    )
    hot_x, hot_y = 200, 350
    assert red_box(shown(view)) == (hot_x - 1, hot_y - 1, hot_x + 3, hot_y + 3)


def test_hidden_when_paused_outside_the_shown_area_or_told_so(view: VideoView) -> None:
    state = CursorState(visible=True, x=0.25, y=0.5, shape=red_square(), version=1, area_width=400)
    view.set_remote_cursor(state)
    assert red_box(shown(view)) is not None
    view.set_dimmed(True)  # sharing paused (or the customer reconnecting)
    assert view.remote_cursor_rect() is None
    assert red_box(shown(view)) is None
    view.set_dimmed(False)
    view.set_crop(QRect(200, 0, 200, 300))  # showing only the right half: the cursor is left of it
    assert view.remote_cursor_rect() is None
    assert red_box(shown(view)) is None
    view.set_crop(None)
    view.set_remote_cursor(CursorState(visible=False, version=2))
    assert red_box(shown(view)) is None


def test_in_a_crop_and_at_100_percent(view: VideoView) -> None:
    view.set_crop(QRect(0, 150, 400, 150))  # the bottom half, e.g. one monitor of two
    view.set_mode(ViewMode.ACTUAL)
    view.set_remote_cursor(
        CursorState(visible=True, x=0.5, y=0.75, shape=red_square(), version=1, area_width=400)
    )
    area = view.picture_area()
    rect = view.remote_cursor_rect()
    assert rect is not None
    # Picture pixel (200, 225) is pixel (200, 75) of the crop; one view pixel per picture pixel here.
    assert (rect.x(), rect.y(), rect.width()) == (area.x + 199, area.y + 74, 4)
    assert red_box(shown(view)) == (
        round(area.x) + 199,
        round(area.y) + 74,
        round(area.x) + 203,
        round(area.y) + 78,
    )


def test_an_arrow_until_the_shape_is_known(view: VideoView) -> None:
    view.set_remote_cursor(CursorState(visible=True, x=0.25, y=0.5, version=1, area_width=400))
    pixels = shown(view)
    rect = view.remote_cursor_rect()
    assert rect is not None
    assert (rect.x(), rect.y()) == (200, 350)
    white = (pixels[..., 0] > 220) & (pixels[..., 1] > 220) & (pixels[..., 2] > 220)
    ys, xs = np.nonzero(white)
    assert xs.size > 50  # a filled arrow, not a dot
    assert xs.min() >= 199
    assert ys.min() >= 349
    assert xs.max() <= 200 + 12 * 2
    assert ys.max() <= 350 + 20 * 2


def test_a_new_shape_with_a_reused_id_is_drawn_anew(view: VideoView) -> None:
    # Shape ids restart with every session: the view must not draw the previous one's picture.
    view.set_remote_cursor(
        CursorState(visible=True, x=0.25, y=0.5, shape=red_square(), version=1, area_width=400)
    )
    assert red_box(shown(view)) is not None
    green = ShapePicture(
        id=5, width=4, height=4, hot_x=1, hot_y=1, scale=1.0, rgba=bytes([0, 255, 0, 255]) * 16
    )
    view.set_remote_cursor(CursorState(visible=True, x=0.25, y=0.5, shape=green, version=1, area_width=400))
    assert red_box(shown(view)) is None
    pixels = shown(view)
    assert pixels[350, 200].tolist() == [0, 255, 0]
