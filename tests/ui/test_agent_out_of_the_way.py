"""Issue 18, item 6: the sharing card and the keyboard guide leave the screen readable.

Offscreen Qt, real widgets: where the card goes and how it looks when paused,
how big the guide is on small and large screens and how large its key labels
are. Where they land on a real two-monitor X display is checked in
tests/functional/test_agent_ui_overlays.py.
"""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agent.ui.key_guide import KeyGuideOverlay
from agent.ui.keyboard import MIN_LABEL_PX, key_label
from agent.ui.keyboard_layout import ANSI, JIS
from agent.ui.screens import guide_screen
from agent.ui.sharing_bar import PAUSED, SharingBar
from agent.ui.theme import SHARING, apply_theme
from protocol import KeyGuide, MonitorInfo, OperatorIdentity

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

OPERATOR = OperatorIdentity(display_name="佐藤 花子", organisation="Madoguchi Securities")
MONITOR = [MonitorInfo(index=0, x=0, y=0, width=1920, height=1080, primary=True)]
SIZES = [(800, 600), (1024, 768), (1366, 768), (1920, 1080)]


@pytest.fixture
def themed(qapp: QApplication) -> QApplication:
    apply_theme(qapp)
    return qapp


def centre_colour(bar: SharingBar) -> QColor:
    image = bar.grab().toImage()
    return image.pixelColor(6, image.height() // 2)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_sharing_card_is_small_and_low(qtbot: QtBot, themed: QApplication, width: int, height: int) -> None:
    del themed
    bar = SharingBar()
    qtbot.addWidget(bar)
    bar.start(OPERATOR, MONITOR, 0)
    bar.place_on(QRect(0, 0, width, height))
    bar.show()
    g = bar.frameGeometry()
    assert g.width() <= 340
    assert g.height() <= 200
    assert g.top() >= height // 2, "the card must never cover the top of the screen"
    assert g.right() >= width - 40
    assert g.bottom() <= height
    # Pause and Stop are right there, one click each.
    assert bar.pause_button.isVisible()
    assert bar.stop_button.isVisible()


def test_paused_card_is_calm_and_resume_is_the_filled_button(qtbot: QtBot, themed: QApplication) -> None:
    del themed
    bar = SharingBar()
    qtbot.addWidget(bar)
    bar.start(OPERATOR, MONITOR, 0)
    bar.place_on(QRect(0, 0, 1366, 768))
    bar.show()
    corner = bar.frameGeometry().bottomRight()
    assert centre_colour(bar) == QColor(SHARING)
    pressed: list[bool] = []
    bar.pause_toggled.connect(pressed.append)
    bar.pause_button.click()
    assert pressed == [True]
    assert bar.pause_button.text() == "Resume"
    assert centre_colour(bar) == QColor(PAUSED)
    image = bar.grab().toImage()

    def fill(button: object) -> QColor:
        from PySide6.QtWidgets import QPushButton

        assert isinstance(button, QPushButton)
        r = button.geometry()
        return image.pixelColor(r.center().x(), r.top() + 6)

    assert fill(bar.pause_button).lightness() > 200, "Resume is filled white: the likely next action"
    assert fill(bar.stop_button) == QColor(PAUSED), "Stop is the outlined one now"
    # It grew (the explanation line) but kept its corner.
    assert bar.frameGeometry().bottomRight() == corner
    bar.pause_button.click()
    assert centre_colour(bar) == QColor(SHARING)


def test_a_card_moved_by_the_customer_stays_where_they_put_it(qtbot: QtBot, themed: QApplication) -> None:
    del themed
    bar = SharingBar()
    qtbot.addWidget(bar)
    bar.start(OPERATOR, MONITOR, 0)
    bar.place_on(QRect(0, 0, 1366, 768))
    bar.show()
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    QTest.mousePress(bar.title, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    QTest.mouseMove(bar.title, QPoint(-300, -200))
    QTest.mouseRelease(bar.title, Qt.MouseButton.LeftButton, pos=QPoint(-300, -200))
    moved = bar.pos()
    bar.set_paused(True)
    bar.place_on(QRect(0, 0, 1366, 768))
    assert bar.pos() == moved


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("language", ["ja", "en"])
def test_key_guide_fits_the_screen_with_readable_labels(
    qtbot: QtBot, themed: QApplication, width: int, height: int, language: str
) -> None:
    del themed
    guide = KeyGuideOverlay(language)
    qtbot.addWidget(guide)
    guide.show_guide(
        KeyGuide(keys=(("Ctrl", "C"),), caption="選んだ文字をコピーします"), QRect(0, 0, width, height)
    )
    g = guide.geometry()
    assert g.height() <= height * 0.5 + 1, f"{g.height()} px of {height}"
    assert g.width() <= width * 0.75
    assert g.bottom() <= height
    assert guide.unit >= 32
    for key in guide.shown_layout.keys:
        if key.label:
            _, font = key_label(key, guide.unit)
            assert font.pixelSize() >= MIN_LABEL_PX, key.label


def test_key_labels_are_never_below_14_px() -> None:
    for layout in (JIS, ANSI):
        for key in layout.keys:
            if key.label:
                for unit in (32, 40, 46):
                    text, font = key_label(key, unit)
                    assert font.pixelSize() >= MIN_LABEL_PX, (key.label, unit)
                    assert text


def test_guide_shows_only_the_part_of_the_keyboard_needed() -> None:
    assert JIS.for_combos([["Ctrl", "C"]]).width == 15
    assert JIS.for_combos([["Ctrl", "C"]]).height == 5
    assert "F5" in JIS.for_combos([["F5"]]).names
    assert "Home" in JIS.for_combos([["Ctrl", "Home"]]).names
    assert "Home" not in JIS.for_combos([["Alt", "Tab"]]).names


def test_guide_goes_to_the_shared_screen_being_pointed_at() -> None:
    assert guide_screen([0, 1], pointed=1, cursor=0) == 1
    assert guide_screen([0, 1], pointed=None, cursor=1) == 1
    assert guide_screen([1], pointed=0, cursor=0) == 1  # never on a screen that is not shared
    assert guide_screen([0, 1], pointed=None, cursor=None) == 0
    assert guide_screen([], pointed=None, cursor=None) is None
