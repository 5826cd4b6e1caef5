"""The operator's pointer on the customer's screen (R10, 指差し).

A circle where the operator points, a ripple when the operator clicks, fading
out when the operator has not moved for a while, so it never hides what the
customer is reading. The window is small and moves with the pointer, rather
than a full-screen transparent layer: moving a 120 px window is cheap on every
system, repainting a 4K translucent layer thirty times a second is not.

Position: ``protocol.Pointer`` is normalised to a capture monitor;
:func:`agent.ui.screens.map_pointer` turns it into Qt coordinates on the right
screen at any scale.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRect, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QPen, QRegion
from PySide6.QtWidgets import QWidget

from agent.ui import theme
from agent.ui.overlay import compositing_available, make_overlay
from agent.ui.screens import LogicalPoint, ScreenArea, map_pointer, qt_screen_areas
from protocol import POINTER_FADE_S, POINTER_IDLE_S, MonitorInfo, Pointer

__all__ = ["PointerOverlay"]

logger = logging.getLogger(__name__)

RADIUS = 22
"""Circle radius in logical pixels: clearly bigger than a mouse cursor, smaller than a button."""
RIPPLE_RADIUS = 56
RIPPLE_S = 0.7
IDLE_S = POINTER_IDLE_S
"""Seconds without a move before the circle starts fading (the console mirrors it)."""
FADE_S = POINTER_FADE_S
_SIZE = 2 * (RIPPLE_RADIUS + 6)
_FRAME_MS = 30


class PointerOverlay(QWidget):
    """One click-through window showing the operator's pointer."""

    def __init__(
        self,
        *,
        idle_s: float = IDLE_S,
        fade_s: float = FADE_S,
        screens: Callable[[], Sequence[ScreenArea]] = qt_screen_areas,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(None)
        self.setObjectName("pointerOverlay")
        self.setWindowTitle("Madoguchi pointer")
        self._idle_s = idle_s
        self._fade_s = fade_s
        self._screens = screens
        self._clock = clock
        self._compositing = compositing_available()
        self.excluded_from_capture = make_overlay(self, translucent=self._compositing)
        self.resize(_SIZE, _SIZE)
        self._last_move = 0.0
        self._ripple_started: float | None = None
        self._opacity = 1.0
        self.position: LogicalPoint | None = None
        """Where the circle's centre is (Qt global logical coordinates), for tests and logs."""
        self._timer = QTimer(self)
        self._timer.setInterval(_FRAME_MS)
        self._timer.timeout.connect(self._tick)

    # --- input -------------------------------------------------------------------

    def apply(self, message: Pointer, monitors: Sequence[MonitorInfo]) -> None:
        """Show the operator's pointer message."""
        if message.action == "hide":
            self.hide_pointer()
            return
        point = map_pointer(message.x, message.y, message.monitor, monitors, self._screens())
        if point is None:
            logger.info("pointer on monitor %d, which is not on this desktop: hidden", message.monitor)
            self.hide_pointer()
            return
        self.show_at(point, click=message.action == "click")

    def show_at(self, point: LogicalPoint, *, click: bool = False) -> None:
        self.position = point
        now = self._clock()
        self._last_move = now
        self._opacity = 1.0
        if click:
            self._ripple_started = now
        self.move(round(point.x) - _SIZE // 2, round(point.y) - _SIZE // 2)
        self._update_mask()
        if not self.isVisible():
            self.show()
        self.raise_()
        self.update()
        if not self._timer.isActive():
            self._timer.start()

    def hide_pointer(self) -> None:
        self._timer.stop()
        self._ripple_started = None
        self.position = None
        self.hide()

    # --- animation -------------------------------------------------------------------

    def _ripple_progress(self, now: float) -> float | None:
        if self._ripple_started is None:
            return None
        progress = (now - self._ripple_started) / RIPPLE_S
        if progress >= 1.0:
            self._ripple_started = None
            return None
        return progress

    def _tick(self) -> None:
        now = self._clock()
        idle = now - self._last_move - self._idle_s
        if idle > 0:
            if not self._compositing or idle >= self._fade_s:
                # Without a compositor there is no translucency to fade through.
                self._timer.stop()
                self.hide()
                return
            self._opacity = 1.0 - idle / self._fade_s
        self._update_mask()
        self.update()

    def _update_mask(self) -> None:
        if self._compositing:
            return
        # Opaque fallback: shape the window to the rings so it is not a box.
        centre = _SIZE // 2
        outer = RADIUS + 6
        region = QRegion(
            QRect(centre - outer, centre - outer, 2 * outer, 2 * outer), QRegion.RegionType.Ellipse
        )
        inner = RADIUS - 6
        region = region.subtracted(
            QRegion(QRect(centre - inner, centre - inner, 2 * inner, 2 * inner), QRegion.RegionType.Ellipse)
        )
        region = region.united(QRegion(QRect(centre - 4, centre - 4, 8, 8), QRegion.RegionType.Ellipse))
        progress = self._ripple_progress(self._clock())
        if progress is not None:
            r = round(RADIUS + (RIPPLE_RADIUS - RADIUS) * progress)
            ring = QRegion(
                QRect(centre - r - 3, centre - r - 3, 2 * r + 6, 2 * r + 6), QRegion.RegionType.Ellipse
            )
            region = region.united(
                ring.subtracted(
                    QRegion(
                        QRect(centre - r + 3, centre - r + 3, 2 * r - 6, 2 * r - 6),
                        QRegion.RegionType.Ellipse,
                    )
                )
            )
        self.setMask(region)

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setOpacity(self._opacity)
        centre = QPointF(_SIZE / 2, _SIZE / 2)
        progress = self._ripple_progress(self._clock())
        if progress is not None:
            r = RADIUS + (RIPPLE_RADIUS - RADIUS) * progress
            # Solid for most of its life, fading only at the end: a click must be noticed.
            alpha = min(1.0, (1.0 - progress) / 0.4)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(theme.color("#FFFFFF", round(200 * alpha)), 9))
            painter.drawEllipse(centre, r, r)
            painter.setPen(QPen(theme.color(theme.POINTER, round(255 * alpha)), 5))
            painter.drawEllipse(centre, r, r)
        # A white halo under the coloured ring keeps it visible on dark and busy backgrounds.
        painter.setPen(QPen(theme.color("#FFFFFF", 220), 10))
        painter.setBrush(theme.color(theme.POINTER, 45))
        painter.drawEllipse(centre, RADIUS, RADIUS)
        painter.setPen(QPen(theme.color(theme.POINTER), 5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, RADIUS, RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.color(theme.POINTER))
        painter.drawEllipse(centre, 3.5, 3.5)
        painter.end()

    @property
    def opacity(self) -> float:
        return self._opacity

    def __repr__(self) -> str:
        return f"PointerOverlay(position={self.position}, visible={self.isVisible()})"
