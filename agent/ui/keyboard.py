"""Painting the keyboard guide (R6 "キーボード表示"): a keyboard with the keys to press lit up.

The picture is drawn with QPainter from :mod:`agent.ui.keyboard_layout` (no
image files: it scales to any screen and DPI and the highlighted keys are
exact). Above the keyboard: the operator's caption and the combinations as
large chips ("Ctrl + C"); when there are several combinations each has its own
colour, used for its chip and its keys, so "first this, then that" reads at a
glance. A key in two combinations shows the first one's colour.

:func:`guide_geometry` and :func:`paint_key_guide` are plain functions so tests
render the guide into a QImage and check the pixels of given keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPainterPath, QPen

from agent.ui import theme
from agent.ui.keyboard_layout import Key, KeyboardLayout

__all__ = [
    "COMBO_COLOURS",
    "GuideGeometry",
    "KEY_FILL",
    "PANEL",
    "combo_text",
    "guide_geometry",
    "key_display_name",
    "key_label",
    "key_rect",
    "paint_key_guide",
]

COMBO_COLOURS = ("#FFB300", "#4FC3F7", "#9CCC65", "#F48FB1")
"""Chip and key colour of the 1st..4th combination (light colours: dark text on them)."""
PANEL = "#22303C"
KEY_FILL = "#F4F6F8"
KEY_TEXT = "#24303B"
PADDING = 16
CHIP_HEIGHT = 44
MIN_LABEL_PX = 14
"""No key label is drawn smaller than this (7-10 px labels were unreadable: issue 18, item 6)."""
_COMPACT_LABELS = {
    "半角/全角": "半/全",
    "カタカナ\nひらがな": "カナ",
    "Caps\n英数": "英数",
    "Caps Lock": "Caps",
}
"""Shorter labels for keys too narrow for the printed one at ``MIN_LABEL_PX``."""
CLOSE_SPACE = 150
"""Room kept free beside the chips, at the panel's top right, for the close button window."""
_ARROWS = {"Up": "↑", "Down": "↓", "Left": "←", "Right": "→"}


@dataclasses.dataclass(frozen=True)
class GuideGeometry:
    """Where the parts of a guide of a given width go (widget coordinates)."""

    width: int
    height: int
    caption: QRect
    chips_top: int
    keyboard: QRectF


def _caption_font() -> QFont:
    return theme.font(22, bold=True)


def _chip_font() -> QFont:
    return theme.font(22, bold=True)


def guide_geometry(width: int, layout: KeyboardLayout, caption: str) -> GuideGeometry:
    """Chips on top (the close button beside them), the caption below, then the keyboard."""
    inner = width - 2 * PADDING
    chips_top = PADDING
    top = chips_top + CHIP_HEIGHT + 10
    caption_rect = QRect(PADDING, top, inner, 0)
    if caption:
        metrics = QFontMetrics(_caption_font())
        bounds = metrics.boundingRect(
            QRect(0, 0, caption_rect.width(), 10_000), Qt.TextFlag.TextWordWrap, caption
        )
        caption_rect.setHeight(min(bounds.height(), 3 * metrics.lineSpacing()))
        top += caption_rect.height() + 10
    unit = inner / layout.width
    keyboard = QRectF(PADDING, top, inner, unit * layout.height)
    height = round(keyboard.bottom()) + PADDING
    return GuideGeometry(width, height, caption_rect, chips_top, keyboard)


def key_rect(key: Key, keyboard: QRectF, layout: KeyboardLayout) -> QRectF:
    """The main rectangle of ``key`` inside the keyboard area (for tests and hit checks)."""
    unit = keyboard.width() / layout.width
    return QRectF(keyboard.x() + key.x * unit, keyboard.y() + key.y * unit, key.w * unit, key.h * unit)


def key_display_name(name: str, layout: KeyboardLayout, names: Mapping[str, str]) -> str:
    """How a key is written in a chip: a translated name, the printed label, or the key name."""
    if name in names:
        return names[name]
    if name in _ARROWS:
        return _ARROWS[name]
    for key in layout.keys_named(name):
        if key.label and name != "Cmd":
            return key.label.replace("\n", " ")
    return name


def combo_text(combo: Sequence[str], layout: KeyboardLayout, names: Mapping[str, str]) -> str:
    return " + ".join(key_display_name(k, layout, names) for k in combo)


def _highlights(combos: Sequence[Sequence[str]], layout: KeyboardLayout) -> dict[int, int]:
    """id(Key) -> combination index, first combination wins."""
    lit: dict[int, int] = {}
    for index, combo in enumerate(combos):
        for name in combo:
            for key in layout.keys_named(name):
                lit.setdefault(id(key), index)
    return lit


def _key_path(key: Key, keyboard: QRectF, unit: float) -> QPainterPath:
    gap = max(2.0, unit * 0.08)
    path = QPainterPath()
    parts = key.rects()
    for i, (x, y, w, h) in enumerate(parts):
        # Parts of one key (the JIS Enter) meet without the gap between keys.
        top = gap / 2 if i == 0 else -gap
        bottom = gap / 2 if i == len(parts) - 1 else -gap
        rect = QRectF(
            keyboard.x() + x * unit + gap / 2,
            keyboard.y() + y * unit + top,
            w * unit - gap,
            h * unit - top - bottom,
        )
        part = QPainterPath()
        part.addRoundedRect(rect, unit * 0.12, unit * 0.12)
        path = path.united(part)
    return path


def _fits(label: str, font: QFont, width: float) -> bool:
    metrics = QFontMetrics(font)
    return max(metrics.horizontalAdvance(line) for line in label.split("\n")) <= width


def _fitted_font(label: str, base: QFont, width: float) -> QFont:
    """``base``, made smaller until the longest line of ``label`` fits ``width``, never below
    :data:`MIN_LABEL_PX`."""
    fitted = QFont(base)
    while fitted.pixelSize() > MIN_LABEL_PX and not _fits(label, fitted, width):
        fitted.setPixelSize(fitted.pixelSize() - 1)
    return fitted


def key_label(key: Key, unit: float, *, bold: bool = False) -> tuple[str, QFont]:
    """The text and font a key cap is drawn with at ``unit`` px per key: at least
    :data:`MIN_LABEL_PX`, with a shorter label where the printed one would not fit."""
    long_label = "\n" in key.label or len(key.label) > 3
    base = theme.font(max(MIN_LABEL_PX, round(unit * (0.29 if long_label else 0.38))), bold=bold)
    room = key.w * unit - unit * 0.16
    text = key.label
    if not _fits(text, theme.font(MIN_LABEL_PX, bold=bold), room) and text in _COMPACT_LABELS:
        text = _COMPACT_LABELS[text]
    return text, _fitted_font(text, base, room)


def paint_key_guide(
    painter: QPainter,
    geometry: GuideGeometry,
    *,
    layout: KeyboardLayout,
    combos: Sequence[Sequence[str]],
    caption: str,
    names: Mapping[str, str],
) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    panel = QRectF(1, 1, geometry.width - 2, geometry.height - 2)
    painter.setPen(QPen(theme.color("#FFFFFF", 90), 2))
    painter.setBrush(theme.color(PANEL, 242))
    painter.drawRoundedRect(panel, 18, 18)

    if caption:
        painter.setFont(_caption_font())
        painter.setPen(theme.color("#FFFFFF"))
        painter.drawText(geometry.caption, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft, caption)

    painter.setFont(_chip_font())
    metrics = QFontMetrics(painter.font())
    x = float(PADDING)
    for index, combo in enumerate(combos):
        text = combo_text(combo, layout, names)
        if len(combos) > 1:
            text = f"{index + 1}.  {text}"
        width = metrics.horizontalAdvance(text) + 40
        chip = QRectF(x, geometry.chips_top, width, CHIP_HEIGHT)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.color(COMBO_COLOURS[index % len(COMBO_COLOURS)]))
        painter.drawRoundedRect(chip, 12, 12)
        painter.setPen(theme.color("#111111"))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
        x += width + 16

    keyboard = geometry.keyboard
    unit = keyboard.width() / layout.width
    lit = _highlights(combos, layout)
    for key in layout.keys:
        path = _key_path(key, keyboard, unit)
        lit_combo = lit.get(id(key))
        if lit_combo is None:
            painter.setPen(QPen(theme.color("#8A96A3"), 1.5))
            painter.setBrush(theme.color(KEY_FILL))
        else:
            painter.setPen(QPen(theme.color("#FFFFFF"), max(3.0, unit * 0.08)))
            painter.setBrush(theme.color(COMBO_COLOURS[lit_combo % len(COMBO_COLOURS)]))
        painter.drawPath(path)
        if not key.label:
            continue
        text, label_font = key_label(key, unit, bold=lit_combo is not None)
        rect = key_rect(key, keyboard, layout)
        painter.setFont(label_font)
        painter.setPen(theme.color("#111111" if lit_combo is not None else KEY_TEXT))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
