"""Guard against the PySide6 build that corrupts None's reference count.

PySide6 6.12.0 releases a reference to ``None`` on every call of a void Qt method
(QPainter.fillRect, setPen, drawEllipse...). A window that paints for a few
seconds then aborts with "none_dealloc". pyproject.toml keeps that release out;
this test fails if a broken build comes back.
"""

from __future__ import annotations

import gc
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRect
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter


def test_void_qt_calls_keep_none_refcount() -> None:
    app = QGuiApplication.instance() or QGuiApplication([])
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    colour = QColor(255, 255, 255)
    # Garbage from earlier tests freed mid-loop would move the count too: keep gc out.
    gc.collect()
    gc.disable()
    try:
        before = sys.getrefcount(None)
        for _ in range(1000):
            painter.fillRect(0, 0, 8, 8, colour)
            painter.fillRect(QRect(0, 0, 8, 8), QBrush(colour))
            painter.setPen(colour)
            painter.drawEllipse(QRect(0, 0, 8, 8))
        after = sys.getrefcount(None)
    finally:
        gc.enable()
    painter.end()
    assert app is not None
    # A rise is harmless noise (temporaries, caches); a fall of ~4000 is the bug.
    assert after - before > -500, f"None lost {before - after} references"
