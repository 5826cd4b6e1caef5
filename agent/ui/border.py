"""The coloured frame around the shared monitor (R14: sharing must be obvious).

Four thin click-through strips along the screen edges instead of one
full-screen transparent window: they need no compositor, cost nothing to draw,
and nothing inside the frame is covered. Orange while sharing, grey while
paused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from agent.ui import theme
from agent.ui.overlay import make_overlay

__all__ = ["ShareBorder", "THICKNESS"]

logger = logging.getLogger(__name__)

THICKNESS = 6
"""Logical pixels: visible at a glance, too thin to hide a scroll bar."""

PAUSED = "#8A949E"


class _Strip(QWidget):
    def __init__(self, name: str) -> None:
        super().__init__(None)
        self.setObjectName(name)
        self.setWindowTitle("Madoguchi sharing frame")
        make_overlay(self, translucent=False)
        self.setAutoFillBackground(True)

    def set_colour(self, colour: str) -> None:
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(colour))
        self.setPalette(palette)


class ShareBorder:
    """Frames one or more screen rectangles (Qt logical coordinates)."""

    def __init__(self) -> None:
        self._strips: list[_Strip] = []
        self._paused = False
        self.rects: list[QRect] = []

    def show_around(self, rects: Sequence[QRect]) -> None:
        self.rects = [QRect(r) for r in rects]
        needed = 4 * len(self.rects)
        while len(self._strips) < needed:
            self._strips.append(_Strip(f"shareBorder{len(self._strips)}"))
        for strip in self._strips[needed:]:
            strip.hide()
        t = THICKNESS
        for i, r in enumerate(self.rects):
            edges = [
                QRect(r.x(), r.y(), r.width(), t),
                QRect(r.x(), r.y() + r.height() - t, r.width(), t),
                QRect(r.x(), r.y() + t, t, r.height() - 2 * t),
                QRect(r.x() + r.width() - t, r.y() + t, t, r.height() - 2 * t),
            ]
            for strip, edge in zip(self._strips[4 * i : 4 * i + 4], edges, strict=True):
                strip.setGeometry(edge)
                strip.set_colour(PAUSED if self._paused else theme.SHARING)
                strip.show()
                strip.raise_()
        logger.info("sharing frame around %s", [r.getRect() for r in self.rects])

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        for strip in self._strips:
            strip.set_colour(PAUSED if paused else theme.SHARING)

    def hide(self) -> None:
        self.rects = []
        for strip in self._strips:
            strip.hide()

    @property
    def visible(self) -> bool:
        return any(s.isVisible() for s in self._strips)

    def close(self) -> None:
        for strip in self._strips:
            strip.close()
            strip.deleteLater()
        self._strips = []
