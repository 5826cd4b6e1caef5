"""The keyboard guide window near the bottom of the shared screen, and its close button.

The guide itself is click-through like every overlay, so it can never swallow a
click the customer meant for the program below. Dismissing it therefore needs a
window of its own: a small "Close" button laid over the guide's top right corner
that takes clicks but never the keyboard focus. The guide stays until the
operator clears it or the customer closes it.

Size (issue 18, item 6): the picture shows only the part of the keyboard the
combination needs (:meth:`KeyboardLayout.for_combos`), a key is 34-46 px wide
(labels never under 14 px) and the whole guide takes at most about half of a
small screen's height and about a third of a large one's. It goes on the monitor
being shared that the operator is pointing at (the controller chooses).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QRect, Signal
from PySide6.QtGui import QHideEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QPushButton, QWidget

from agent.ui import theme
from agent.ui.keyboard import CHIP_HEIGHT, CLOSE_SPACE, PADDING, guide_geometry, paint_key_guide
from agent.ui.keyboard_layout import KeyboardLayout, layout_for
from agent.ui.overlay import make_overlay
from protocol import KeyGuide

__all__ = ["KeyGuideOverlay"]

logger = logging.getLogger(__name__)

MIN_UNIT = 34
"""Narrowest key (px): a 14 px label still fits."""
MAX_UNIT = 46
WIDTH_SHARE = 0.62
HEIGHT_SHARE = 0.5
MARGIN = 28


class KeyGuideOverlay(QWidget):
    """Shows a ``protocol.KeyGuide``; ``dismissed`` when the customer closes it."""

    dismissed = Signal()

    def __init__(self, language: str = "ja") -> None:
        super().__init__(None)
        self.setObjectName("keyGuideOverlay")
        self.setWindowTitle("Madoguchi keyboard guide")
        self.excluded_from_capture = make_overlay(self)
        self._layout: KeyboardLayout = layout_for(language)
        self._shown: KeyboardLayout = self._layout
        """The part of the layout on screen for the current guide."""
        self._guide: KeyGuide | None = None
        self._screen_rect = QRect()
        self._avoid: QRect | None = None
        self.close_button = QPushButton()
        self.close_button.setObjectName("keyGuideClose")
        self.close_button.setStyleSheet(
            f"QPushButton {{ background: {theme.SURFACE}; color: {theme.TEXT};"
            f" border: 2px solid {theme.BORDER}; border-radius: 10px; font-size: 20px;"
            " font-weight: bold; min-height: 40px; padding: 2px 14px; }"
        )
        make_overlay(self.close_button, click_through=False)
        self.close_button.clicked.connect(self._close_clicked)
        self.retranslate()

    @property
    def guide(self) -> KeyGuide | None:
        return self._guide

    @property
    def layout_name(self) -> str:
        return self._layout.name

    @property
    def shown_layout(self) -> KeyboardLayout:
        return self._shown

    @property
    def unit(self) -> float:
        """Pixels per key on screen."""
        return (self.width() - 2 * PADDING) / self._shown.width

    def set_language(self, language: str) -> None:
        self._layout = layout_for(language)
        if self._guide is not None:
            self._place()
            self.update()

    def show_guide(self, guide: KeyGuide, screen_rect: QRect, avoid: QRect | None = None) -> None:
        """Show ``guide`` at the bottom of ``screen_rect`` (a screen's available geometry).

        ``avoid`` (the sharing card) is kept clear: the guide moves left of it, or above
        it when the screen is too narrow, so neither hides the other's buttons.
        """
        self._guide = guide
        self._screen_rect = QRect(screen_rect)
        self._avoid = None if avoid is None else QRect(avoid)
        self._place()
        self.show()
        self.raise_()
        self.close_button.show()
        self.close_button.raise_()
        self.update()
        logger.info("key guide shown: %s", ["+".join(c) for c in guide.keys])

    def clear(self) -> None:
        self._guide = None
        self.close_button.hide()
        self.hide()

    def _close_clicked(self) -> None:
        logger.info("key guide dismissed by the customer")
        self.clear()
        self.dismissed.emit()

    def _names(self) -> dict[str, str]:
        return {"Space": self.tr("Space")}

    def _place(self) -> None:
        if self._guide is None:
            return
        area = self._screen_rect
        self._shown = layout = self._layout.for_combos(self._guide.keys)
        caption = self._guide.caption
        # Big enough to read from the chair, small enough to leave most of the screen visible.
        widest = (area.width() - 2 * MARGIN - 2 * PADDING) / layout.width
        unit = min(max((area.width() * WIDTH_SHARE - 2 * PADDING) / layout.width, MIN_UNIT), MAX_UNIT, widest)
        while True:
            width = round(unit * layout.width) + 2 * PADDING
            geometry = guide_geometry(width, layout, caption)
            if geometry.height <= area.height() * HEIGHT_SHARE or unit <= MIN_UNIT:
                break
            unit = max(MIN_UNIT, unit - 2)
        x = area.x() + (area.width() - width) // 2
        y = area.y() + area.height() - geometry.height - MARGIN
        x, y = _clear_of(QRect(x, y, width, geometry.height), self._avoid, area)
        self.setGeometry(x, y, width, geometry.height)
        self.close_button.adjustSize()
        button_w = min(self.close_button.sizeHint().width(), CLOSE_SPACE - 10)
        self.close_button.setGeometry(
            x + width - PADDING - button_w, y + PADDING + (CHIP_HEIGHT - 44) // 2, button_w, 44
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        if self._guide is None:
            return
        painter = QPainter(self)
        geometry = guide_geometry(self.width(), self._shown, self._guide.caption)
        paint_key_guide(
            painter,
            geometry,
            layout=self._shown,
            combos=self._guide.keys,
            caption=self._guide.caption,
            names=self._names(),
        )
        painter.end()

    def retranslate(self) -> None:
        self.close_button.setText(self.tr("× Close"))
        self.close_button.setAccessibleName(self.tr("Close the keyboard guide"))
        self._place()
        self.update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.close_button.hide()
        super().hideEvent(event)

    def combos(self) -> Sequence[Sequence[str]]:
        return () if self._guide is None else self._guide.keys


def _clear_of(rect: QRect, avoid: QRect | None, area: QRect) -> tuple[int, int]:
    """Where ``rect`` goes so it does not cover ``avoid``: left of it, else above it, inside ``area``."""
    if avoid is None or not rect.intersects(avoid):
        return rect.x(), rect.y()
    left = avoid.left() - MARGIN // 2 - rect.width()
    if left >= area.x():
        return left, rect.y()
    above = avoid.top() - MARGIN // 2 - rect.height()
    if above >= area.y():
        return rect.x(), above
    return rect.x(), rect.y()
