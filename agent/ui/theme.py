"""Look and feel of the customer's windows: calm colours, large type, generous spacing.

Many customers are elderly and not technical. Everything here serves that:
body text about 20 px, the primary action a large, unmistakable button, high
contrast text (WCAG AA or better against the backgrounds used), and the
"you are sharing" signals in one strong colour that appears nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QColor, QFont
    from PySide6.QtWidgets import QApplication

__all__ = [
    "ACCENT",
    "BACKGROUND",
    "BORDER",
    "DANGER",
    "FONT_FAMILIES",
    "MUTED",
    "NOTICE_BG",
    "POINTER",
    "PRIMARY",
    "SHARING",
    "SURFACE",
    "TEXT",
    "apply_theme",
    "color",
    "font",
]

# Colours as hex so they can go into both style sheets and QColor.
BACKGROUND = "#F6F4EF"
"""Window background: a warm off-white, softer than pure white for long reading."""
SURFACE = "#FFFFFF"
TEXT = "#1E2A36"
MUTED = "#4A5866"
BORDER = "#C9CFD6"
PRIMARY = "#1F5FA6"
"""The one primary action per screen (Agree, Allow, Close...)."""
PRIMARY_HOVER = "#174B85"
ACCENT = "#0F7B6C"
NOTICE_BG = "#FFF4D6"
"""Reminders (close personal documents, change your password)."""
NOTICE_BORDER = "#E0B64A"
DANGER = "#B3261E"
"""Stop sharing."""
SHARING = "#C4420C"
"""The sharing bar and the border around the shared monitor: used for nothing else."""
POINTER = "#E0115F"
"""The operator's pointer circle: a vivid raspberry that rarely occurs in documents."""

FONT_FAMILIES = ["Noto Sans CJK JP", "Yu Gothic UI", "Meiryo UI", "Meiryo", "Segoe UI", "Sans Serif"]
"""Noto Sans CJK JP where installed (Linux builds), the Windows Japanese UI fonts otherwise."""

BODY_PX = 20
SMALL_PX = 17
HEADING_PX = 30


def color(hex_value: str, alpha: int = 255) -> QColor:
    from PySide6.QtGui import QColor

    c = QColor(hex_value)
    c.setAlpha(alpha)
    return c


def font(pixel_size: int = BODY_PX, *, bold: bool = False) -> QFont:
    from PySide6.QtGui import QFont

    f = QFont()
    f.setFamilies(FONT_FAMILIES)
    f.setPixelSize(pixel_size)
    f.setBold(bold)
    return f


_STYLE = f"""
QWidget#AgentWindowCentral, QStackedWidget, QWidget[page="true"] {{
    background: {BACKGROUND};
}}
QLabel {{ color: {TEXT}; }}
QLabel[role="heading"] {{ font-size: {HEADING_PX}px; font-weight: bold; }}
QLabel[role="muted"] {{ color: {MUTED}; font-size: {SMALL_PX}px; }}
QLabel[role="notice"], QFrame[role="notice"] {{
    background: {NOTICE_BG}; border: 2px solid {NOTICE_BORDER}; border-radius: 10px; padding: 12px;
}}
QPushButton {{
    font-size: {BODY_PX}px; min-height: 52px; padding: 6px 28px; border-radius: 10px;
    background: {SURFACE}; color: {TEXT}; border: 2px solid {BORDER};
}}
QPushButton:hover {{ border-color: {PRIMARY}; }}
QPushButton:focus {{ border: 3px solid #F2A900; }}
QPushButton:disabled {{ color: #8A949E; background: #ECEAE5; }}
QPushButton[role="primary"] {{
    background: {PRIMARY}; color: white; border: 2px solid {PRIMARY}; font-weight: bold;
}}
QPushButton[role="primary"]:hover {{ background: {PRIMARY_HOVER}; }}
QPushButton[role="primary"]:focus {{ border: 3px solid #F2A900; }}
QPushButton[role="primary"]:disabled {{ background: #9DB4CF; border-color: #9DB4CF; color: white; }}
QPushButton[role="danger"] {{ background: {DANGER}; color: white; border: 2px solid {DANGER}; }}
QPushButton[role="language"] {{ min-height: 36px; padding: 2px 16px; font-size: {SMALL_PX}px; }}
QTextBrowser {{
    background: {SURFACE}; color: {TEXT}; border: 1px solid {BORDER}; border-radius: 8px;
    padding: 10px; font-size: {BODY_PX - 2}px;
}}
QComboBox {{ font-size: {SMALL_PX}px; min-height: 36px; padding: 2px 10px; }}
QPushButton[role="quiet"] {{
    background: transparent; border: 2px solid transparent; color: {PRIMARY};
    text-decoration: underline; font-size: {SMALL_PX}px; min-height: 40px; padding: 2px 10px;
}}
QPushButton[role="quiet"]:hover {{ border-color: {BORDER}; }}
QPushButton[role="quiet"]:focus {{ border: 3px solid #F2A900; }}
QCheckBox {{ font-size: {BODY_PX}px; spacing: 12px; color: {TEXT}; }}
QCheckBox::indicator {{ width: 26px; height: 26px; }}
QCheckBox:focus {{ outline: 3px solid #F2A900; }}
"""


def apply_theme(app: QApplication) -> None:
    """The application font and style sheet; call once after creating the QApplication."""
    app.setFont(font(BODY_PX))
    app.setStyleSheet(_STYLE)
