"""Window set-up shared by everything the agent draws over the customer's desktop.

An overlay (pointer circle, keyboard guide, sharing border) must never get in
the customer's way: frameless, on top, shown without activation and unable to
take the keyboard focus, and click-through (``Qt.WindowTransparentForInput``
makes the window system pass clicks to whatever is underneath;
``WA_TransparentForMouseEvents`` does the same inside Qt). The sharing bar and
the keyboard guide's close button are the exceptions that take clicks, never
focus on their own.

Every overlay is excluded from screen capture where the OS can do it
(:mod:`agent.ui.capture_exclusion`).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from agent.ui.capture_exclusion import exclude_from_capture, x11_compositing_active

__all__ = ["compositing_available", "make_overlay"]

logger = logging.getLogger(__name__)


def compositing_available() -> bool:
    """Whether translucent windows blend with what is below them on this display."""
    if QGuiApplication.platformName() == "xcb":
        return x11_compositing_active()
    return True


def make_overlay(widget: QWidget, *, click_through: bool = True, translucent: bool = True) -> bool:
    """Turn a parentless widget into an overlay window; returns whether capture excludes it.

    Must run before the widget is first shown: the translucent background selects
    an ARGB visual when the native window is created, which happens here.
    """
    flags = (
        Qt.WindowType.Tool
        | Qt.WindowType.FramelessWindowHint
        | Qt.WindowType.WindowStaysOnTopHint
        | Qt.WindowType.WindowDoesNotAcceptFocus
        | Qt.WindowType.NoDropShadowWindowHint
    )
    if click_through:
        flags |= Qt.WindowType.WindowTransparentForInput
    widget.setWindowFlags(flags)
    widget.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
    widget.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, click_through)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if translucent:
        widget.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, True)
        widget.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
    widget.winId()  # create the native window now, with the attributes above
    excluded = exclude_from_capture(widget)
    logger.debug("overlay %s: excluded from capture: %s", widget.objectName(), excluded)
    return excluded
