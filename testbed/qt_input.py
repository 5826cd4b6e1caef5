"""Real input events for Qt widgets under test, on any platform plugin."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["mouse"]


def mouse(
    widget: QWidget, kind: str, pos: QPointF | QPoint, button: Qt.MouseButton = Qt.MouseButton.NoButton
) -> None:
    """Deliver a real mouse event to ``widget`` (a move, press or release) at ``pos``.

    Sent through ``QApplication.sendEvent`` so it takes the same path as a mouse
    over the view, on any platform plugin (offscreen has no pointer to move).
    """
    types = {
        "move": QEvent.Type.MouseMove,
        "press": QEvent.Type.MouseButtonPress,
        "release": QEvent.Type.MouseButtonRelease,
    }
    local = QPointF(pos)
    global_pos = QPointF(widget.mapToGlobal(local.toPoint()))
    buttons = button if kind == "press" else Qt.MouseButton.NoButton
    event = QMouseEvent(types[kind], local, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
