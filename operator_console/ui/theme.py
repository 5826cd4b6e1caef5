"""The console's type and spacing: readable all day, the same typeface in both languages.

Qt's default (about 12 px on Windows at 100 %) is too small for an eight-hour shift and
cut labels off; the console uses 15 px body type. The family list puts a Japanese UI font
first, so switching the language never switches the typeface (the UI walk saw both).
Sizes are logical pixels: at 125 % Windows scaling Qt multiplies them.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

__all__ = ["BODY_PX", "FONT_FAMILIES", "apply_console_theme", "console_font"]

FONT_FAMILIES = ["Noto Sans CJK JP", "Yu Gothic UI", "Meiryo UI", "Meiryo", "Segoe UI", "Sans Serif"]
"""Noto Sans CJK JP where installed (Linux), the Windows Japanese UI fonts otherwise."""

BODY_PX = 15

_STYLE = """
QPushButton, QToolButton { padding: 4px 12px; min-height: 26px; }
QTabBar::tab { padding: 6px 14px; }
QLineEdit, QComboBox, QPlainTextEdit, QListWidget, QTreeWidget { padding: 3px; }
"""


def console_font(pixel_size: int = BODY_PX, *, bold: bool = False) -> QFont:
    f = QFont()
    f.setFamilies(FONT_FAMILIES)
    f.setPixelSize(pixel_size)
    f.setBold(bold)
    return f


def apply_console_theme(app: QApplication) -> None:
    """The application font and base style; call once after creating the QApplication."""
    app.setFont(console_font())
    app.setStyleSheet(_STYLE)
