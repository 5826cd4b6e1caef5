"""Small building blocks shared by the agent's pages: labels and buttons with roles.

Every interactive widget gets an ``objectName`` (stable, English: tests and
support staff refer to it) and, in the pages, a translated accessible name
(screen readers read it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from client_core.line_breaks import phrase_breaks, plain

__all__ = [
    "PhraseLabel",
    "button",
    "button_row",
    "compact_page",
    "label",
    "notice",
    "page_layout",
    "short_screen",
]


class PhraseLabel(QLabel):
    """A wrapping label that breaks Japanese lines between phrases, never inside a word
    (:mod:`client_core.line_breaks`); :meth:`text` gives the text as it was set."""

    def setText(self, text: str) -> None:
        super().setText(phrase_breaks(text) if self.wordWrap() else text)

    def text(self) -> str:
        return plain(super().text())


MARGIN = 36
SPACING = 18
SHORT_SCREEN_BELOW = 700
"""Available height (px) of the primary screen under which the tall pages go compact."""


def short_screen() -> bool:
    """The window opens on a short screen (800x600): the number and request pages go compact.

    Decided by the screen, not by the page: a page too tall for it would make the window
    taller than the screen (``agent/ui/window.py`` sizes it to the primary screen).
    """
    screen = QGuiApplication.primaryScreen()
    return screen is not None and screen.availableGeometry().height() < SHORT_SCREEN_BELOW


def compact_page(layout: QBoxLayout) -> None:
    """Tighter margins and spacing (as the terms page on a short screen)."""
    layout.setContentsMargins(MARGIN - 12, 8, MARGIN - 12, 10)
    layout.setSpacing(8)


def label(
    object_name: str, role: str | None = None, *, wrap: bool = True, parent: QWidget | None = None
) -> QLabel:
    widget = PhraseLabel(parent)
    widget.setObjectName(object_name)
    if role is not None:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    return widget


def notice(object_name: str, parent: QWidget | None = None) -> QLabel:
    """A reminder in a soft yellow box (close your documents, change your password)."""
    widget = label(object_name, "notice", parent=parent)
    widget.setFrameShape(QFrame.Shape.NoFrame)
    return widget


def button(object_name: str, role: str | None = None, parent: QWidget | None = None) -> QPushButton:
    widget = QPushButton(parent)
    widget.setObjectName(object_name)
    if role is not None:
        widget.setProperty("role", role)
    # Space and Enter both press a focused button; Enter also presses the default one.
    widget.setAutoDefault(True)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    return widget


def button_row(*buttons: QPushButton) -> QHBoxLayout:
    """Secondary actions on the left, the primary (last) action on the right."""
    row = QHBoxLayout()
    row.setSpacing(SPACING)
    for i, b in enumerate(buttons):
        if i == len(buttons) - 1:
            row.addStretch(1)
        row.addWidget(b)
    return row


def page_layout(page: QWidget) -> QVBoxLayout:
    page.setProperty("page", True)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(MARGIN, MARGIN - 12, MARGIN, MARGIN - 6)
    layout.setSpacing(SPACING)
    layout.setDirection(QBoxLayout.Direction.TopToBottom)
    return layout
