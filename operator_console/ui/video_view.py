"""The customer's screen: newest frame only, fit or 100%, and the operator's pointer.

Frames arrive as RGB numpy arrays already converted on the network thread; the
view wraps one in a ``QImage`` without copying and paints it, scaled only when
fitting. In 100% mode one picture pixel is one *device* pixel, so text stays
sharp on HiDPI screens, and scroll bars appear when the picture is larger.

Mouse moves over the picture become normalised pointer positions for the shown
monitor (see :mod:`operator_console.ui.pointer`); letterbox bars and the area
around a small picture send nothing. Over the view the operator's own cursor is
a ring (pointing) or a thin cross (not pointing), never an arrow, so it cannot be
taken for the customer's mouse cursor inside the picture.

The customer's mouse cursor is drawn over the picture from
:class:`operator_console.cursor.CursorState` (positions and shapes sent on the data
channel, not painted into the video): its real shape at the picture's scale, its
hotspot on the spot, a plain arrow until the shape is known, nothing while the
picture is dimmed (paused, reconnecting) or when it is outside the shown area.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from operator_console.cursor import CursorState, ShapePicture
from operator_console.frames import RGBImage
from operator_console.ui.pointer import PointerThrottle, Rect, ViewMode, normalise, picture_rect
from protocol import POINTER_IDLE_S

__all__ = ["POINTER_COLOUR", "VideoView"]

logger = logging.getLogger(__name__)

POINTER_COLOUR = QColor(0xE0, 0x11, 0x5F)
"""The ring shown for the operator's pointer: the raspberry of the customer's circle
(agent/ui/theme.py ``POINTER``), so "the same" pointer has one colour on both sides."""
_BACKGROUND = QColor(32, 33, 36)
_RIPPLE_S = 0.6
_ARROW = ((0, 0), (0, 17), (4, 13), (7, 20), (10, 19), (7, 12), (12, 12))
"""The fallback cursor, in screen pixels from its tip (the hotspot): a plain arrow."""


class VideoView(QAbstractScrollArea):
    """Paints the latest frame; emits ``pointer`` (action, x, y) for the data channel."""

    pointer = Signal(str, float, float)
    """``move``/``click``/``hide`` with coordinates normalised to the shown area."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoView")
        self._array: RGBImage | None = None
        self._image: QImage | None = None
        self._crop: QRect | None = None
        self._mode = ViewMode.FIT
        self._pointing = True
        self._throttle = PointerThrottle()
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._flush)
        self._ripples: list[tuple[float, float, float]] = []
        self._ripple_timer = QTimer(self)
        self._ripple_timer.setInterval(30)
        self._ripple_timer.timeout.connect(self._animate)
        # When the customer's resting pointer starts to fade, animate ours away with it.
        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.timeout.connect(self._ripple_timer.start)
        self._dimmed = False
        self._remote = CursorState()
        self._remote_picture: tuple[ShapePicture, QImage] | None = None
        self.frames_painted = 0
        self.viewport().setMouseTracking(True)
        self.viewport().setAutoFillBackground(False)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setMinimumSize(320, 200)
        self._update_cursor()

    # --- picture ----------------------------------------------------------------------

    def set_frame(self, rgb: RGBImage) -> None:
        """Show this frame (H, W, 3 RGB). The array is kept, not copied."""
        array = np.ascontiguousarray(rgb)
        height, width = array.shape[:2]
        resized = self._image is None or (self._image.width(), self._image.height()) != (width, height)
        self._array = array
        self._image = QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        if resized:
            self._update_scrollbars()
        self.viewport().update()

    def clear(self) -> None:
        self._array = None
        self._image = None
        self._remote = CursorState()
        self._ripples.clear()
        self._throttle.reset()
        self._update_scrollbars()
        self.viewport().update()

    def has_picture(self) -> bool:
        return self._image is not None

    def frame_size(self) -> tuple[int, int] | None:
        return None if self._image is None else (self._image.width(), self._image.height())

    def set_crop(self, area: QRect | None) -> None:
        """Show only ``area`` (picture pixels), e.g. one monitor of a shared desktop."""
        self._crop = area
        self._throttle.reset()
        self._update_scrollbars()
        self.viewport().update()

    def set_dimmed(self, dimmed: bool) -> None:
        """Grey the picture out (sharing paused, customer reconnecting)."""
        self._dimmed = dimmed
        self.viewport().update()

    # --- the customer's cursor ---------------------------------------------------------

    @property
    def remote_cursor(self) -> CursorState:
        return self._remote

    def set_remote_cursor(self, state: CursorState) -> None:
        """Draw the customer's cursor as ``state`` says (cheap when nothing changed)."""
        if state == self._remote:
            return
        self._remote = state
        self.viewport().update()

    def remote_cursor_rect(self) -> QRectF | None:
        """Where the customer's cursor picture is drawn (viewport coordinates), or None."""
        placed = self._remote_placement()
        if placed is None:
            return None
        hotspot, scale = placed
        shape = self._remote.shape
        if shape is None:
            return QRectF(hotspot.x(), hotspot.y(), 12 * scale, 20 * scale)
        size = scale * shape.scale
        return QRectF(
            hotspot.x() - shape.hot_x * size,
            hotspot.y() - shape.hot_y * size,
            shape.width * size,
            shape.height * size,
        )

    def _remote_placement(self) -> tuple[QPointF, float] | None:
        """The hotspot's viewport position and view pixels per customer screen pixel."""
        state, source = self._remote, self.source_rect()
        if not state.visible or self._dimmed or self._image is None or source is None or source.isEmpty():
            return None
        # Normalised to the whole shared picture; the view may show only a crop of it.
        px, py = state.x * self._image.width(), state.y * self._image.height()
        if not (
            source.x() <= px < source.x() + source.width() and source.y() <= py < source.y() + source.height()
        ):
            return None
        area = self.picture_area()
        # Snapping to device pixels may scale x and y a hair differently: place by each.
        sx, sy = area.width / source.width(), area.height / source.height()
        picture_per_screen = self._image.width() / state.area_width if state.area_width else 1.0
        hotspot = QPointF(area.x + (px - source.x()) * sx, area.y + (py - source.y()) * sy)
        return hotspot, sx * picture_per_screen

    def _paint_remote_cursor(self, painter: QPainter) -> None:
        rect = self.remote_cursor_rect()
        placed = self._remote_placement()
        if rect is None or placed is None:
            return
        shape = self._remote.shape
        if shape is None:
            hotspot, scale = placed
            arrow = QPolygonF([QPointF(hotspot.x() + x * scale, hotspot.y() + y * scale) for x, y in _ARROW])
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QPen(QColor(0, 0, 0), 1))
            painter.setBrush(QColor(255, 255, 255))
            painter.drawPolygon(arrow)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            return
        cached = self._remote_picture
        # Keyed by the shape object itself: ids restart with every session.
        if cached is None or cached[0] is not shape:
            image = QImage(
                shape.rgba, shape.width, shape.height, 4 * shape.width, QImage.Format.Format_RGBA8888
            )
            cached = self._remote_picture = (shape, image.copy())  # own the pixels
        smooth = abs(rect.width() - shape.width) > 0.5
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawImage(rect, cached[1])

    # --- modes ------------------------------------------------------------------------

    @property
    def mode(self) -> ViewMode:
        return self._mode

    def set_mode(self, mode: ViewMode) -> None:
        if mode is self._mode:
            return
        self._mode = mode
        self._update_scrollbars()
        self.viewport().update()

    @property
    def pointing(self) -> bool:
        return self._pointing

    def set_pointing(self, on: bool) -> None:
        """Turn the pointer tool on or off; off hides the customer's pointer at once."""
        if on == self._pointing:
            return
        self._pointing = on
        self._update_cursor()
        if not on:
            self._flush_timer.stop()
            last = self._throttle.last_sent or (0.0, 0.0)
            self._throttle.reset()
            self._ripples.clear()
            self.pointer.emit("hide", last[0], last[1])
            self.viewport().update()

    # --- geometry ---------------------------------------------------------------------

    def source_rect(self) -> QRect | None:
        if self._image is None:
            return None
        full = QRect(0, 0, self._image.width(), self._image.height())
        return full if self._crop is None else self._crop.intersected(full)

    def picture_area(self) -> Rect:
        """Where the picture is drawn, in viewport coordinates, snapped to device pixels."""
        source = self.source_rect()
        if source is None or source.isEmpty():
            return Rect(0.0, 0.0, 0.0, 0.0)
        dpr = self.viewport().devicePixelRatioF()
        rect = picture_rect(
            self._mode,
            (self.viewport().width(), self.viewport().height()),
            (source.width(), source.height()),
            device_pixel_ratio=dpr,
            scroll=(self.horizontalScrollBar().value(), self.verticalScrollBar().value()),
        )
        # Whole device pixels: a half-pixel offset would resample (blur) a 1:1 picture.
        return Rect(
            round(rect.x * dpr) / dpr,
            round(rect.y * dpr) / dpr,
            round(rect.width * dpr) / dpr,
            round(rect.height * dpr) / dpr,
        )

    def normalised_at(self, pos: QPointF) -> tuple[float, float] | None:
        return normalise(self.picture_area(), pos.x(), pos.y())

    def position_of(self, x: float, y: float) -> QPointF:
        """Viewport position of normalised (x, y): the inverse of :meth:`normalised_at`."""
        area = self.picture_area()
        return QPointF(area.x + x * area.width, area.y + y * area.height)

    def _update_scrollbars(self) -> None:
        source = self.source_rect()
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        if source is None or self._mode is ViewMode.FIT:
            hbar.setRange(0, 0)
            vbar.setRange(0, 0)
            return
        dpr = self.viewport().devicePixelRatioF()
        width, height = source.width() / dpr, source.height() / dpr
        view = self.viewport().size()
        hbar.setRange(0, max(0, round(width - view.width())))
        vbar.setRange(0, max(0, round(height - view.height())))
        hbar.setPageStep(view.width())
        vbar.setPageStep(view.height())
        hbar.setSingleStep(40)
        vbar.setSingleStep(40)

    # --- Qt events --------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_scrollbars()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        try:
            painter.fillRect(self.viewport().rect(), _BACKGROUND)
            source = self.source_rect()
            if self._image is None or source is None:
                return
            area = self.picture_area()
            target = QRectF(area.x, area.y, area.width, area.height)
            dpr = self.viewport().devicePixelRatioF()
            one_to_one = abs(area.width * dpr - source.width()) < 0.5
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not one_to_one)
            painter.drawImage(target, self._image, QRectF(source))
            self.frames_painted += 1
            if self._dimmed:
                painter.fillRect(target, QColor(0, 0, 0, 140))
            painter.setClipRect(target)
            self._paint_remote_cursor(painter)
            painter.setClipping(False)
            self._paint_pointer(painter)
        finally:
            painter.end()

    def _paint_pointer(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        now = time.monotonic()
        for x, y, started in self._ripples:
            progress = min(1.0, (now - started) / _RIPPLE_S)
            colour = QColor(POINTER_COLOUR)
            colour.setAlphaF(1.0 - progress)
            painter.setPen(QPen(colour, 3))
            radius = 10 + 30 * progress
            painter.drawEllipse(self.position_of(x, y), radius, radius)
        resting = self._throttle.resting(now)
        if self._pointing and resting is not None and not self.underMouse():
            # Where the customer's pointer rests while the operator's mouse is elsewhere,
            # only as long as the customer still sees it.
            colour = QColor(POINTER_COLOUR)
            colour.setAlphaF(resting[2])
            painter.setPen(QPen(colour, 3))
            painter.drawEllipse(self.position_of(resting[0], resting[1]), 12, 12)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._pointing:
            return
        position = self.normalised_at(event.position())
        if position is None:
            return  # over a letterbox bar or outside the picture: the customer sees nothing move
        now = time.monotonic()
        sent = self._throttle.move(position[0], position[1], now)
        if sent is not None:
            self.pointer.emit("move", sent[0], sent[1])
            self._rest_timer.start(round(POINTER_IDLE_S * 1000))
        due = self._throttle.due_in(now)
        if due is not None and not self._flush_timer.isActive():
            self._flush_timer.start(max(1, round(due * 1000)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self._pointing or event.button() is not Qt.MouseButton.LeftButton:
            return
        position = self.normalised_at(event.position())
        if position is None:
            return
        self._flush_timer.stop()
        self._throttle.sent_directly(position[0], position[1], time.monotonic())
        self.pointer.emit("click", position[0], position[1])
        self._rest_timer.start(round(POINTER_IDLE_S * 1000))
        self._ripples.append((position[0], position[1], time.monotonic()))
        self._ripple_timer.start()

    def _flush(self) -> None:
        sent = self._throttle.flush(time.monotonic())
        if sent is not None:
            self.pointer.emit("move", sent[0], sent[1])
            self._rest_timer.start(round(POINTER_IDLE_S * 1000))
        due = self._throttle.due_in(time.monotonic())
        if due is not None:
            self._flush_timer.start(max(1, round(due * 1000)))

    def _animate(self) -> None:
        now = time.monotonic()
        self._ripples = [r for r in self._ripples if now - r[2] < _RIPPLE_S]
        if not self._ripples and self._throttle.resting(now) is None:
            self._ripple_timer.stop()
        self.viewport().update()

    def _update_cursor(self) -> None:
        if self._pointing:
            self.viewport().setCursor(_ring_cursor(self.devicePixelRatioF()))
        else:
            self.viewport().setCursor(QCursor(Qt.CursorShape.CrossCursor))


def _ring_cursor(dpr: float) -> QCursor:
    """A ring with a dot: the shape of the pointer the customer sees, not an arrow."""
    size = 32
    pixmap = QPixmap(round(size * dpr), round(size * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(255, 255, 255), 4))
        painter.drawEllipse(QPointF(size / 2, size / 2), 11, 11)
        painter.setPen(QPen(POINTER_COLOUR, 2))
        painter.drawEllipse(QPointF(size / 2, size / 2), 11, 11)
        painter.setBrush(POINTER_COLOUR)
        painter.drawEllipse(QPointF(size / 2, size / 2), 2, 2)
    finally:
        painter.end()
    return QCursor(pixmap, size // 2, size // 2)
