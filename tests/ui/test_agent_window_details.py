"""Issue 18, item 9 on the customer's side: the number page's buttons, the terms at
800x600, and the window that must not get buried while the number is read out."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from agent.ui.theme import apply_theme
from agent.ui.window import AgentWindow
from protocol import OperatorIdentity

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TERMS = "第1条（目的）\n" + "本規約は、画面共有サービスの利用条件を定めるものです。" * 80


def window(qtbot: QtBot, qapp: QApplication, width: int, height: int) -> AgentWindow:
    apply_theme(qapp)
    w = AgentWindow("en")
    qtbot.addWidget(w)
    w.resize(width, height)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_new_number_is_a_quiet_link_not_a_second_big_button(qtbot: QtBot, qapp: QApplication) -> None:
    w = window(qtbot, qapp, 780, 660)
    w.show_page(w.code)
    w.code.set_code("4821", 600.0, changed=False)
    qtbot.wait(50)
    new, cancel = w.code.new_code_button, w.code.cancel_button
    assert new.property("role") == "quiet"
    assert new.height() < cancel.height()
    # Under the number, away from Cancel: not a pair of look-alike buttons.
    assert new.geometry().bottom() < cancel.geometry().top() - 20


def test_terms_show_about_nine_lines_at_800x600(qtbot: QtBot, qapp: QApplication) -> None:
    w = window(qtbot, qapp, 780, 560)  # the window on an 800x600 screen
    w.consent.set_terms(TERMS)
    qtbot.wait(50)
    terms = w.consent.terms
    lines = terms.viewport().height() // terms.fontMetrics().lineSpacing()
    assert w.consent.compact
    assert lines >= 7, f"only {lines} lines of terms visible"
    assert w.consent.agree_button.isVisible()
    assert w.consent.agree_button.geometry().bottom() <= w.consent.height()

    big = window(qtbot, qapp, 780, 660)
    big.consent.set_terms(TERMS)
    qtbot.wait(50)
    assert not big.consent.compact


def test_window_stays_above_while_the_number_or_a_request_is_shown(qtbot: QtBot, qapp: QApplication) -> None:
    w = window(qtbot, qapp, 780, 660)
    seen = []
    for page in (w.consent, w.code, w.request, w.summary):
        w.show_page(page)
        seen.append((w.on_top, bool(w.windowFlags() & Qt.WindowType.WindowStaysOnTopHint), w.isVisible()))
    assert seen == [(False, False, True), (True, True, True), (True, True, True), (False, False, True)]


def _squeezed(widgets: list[QLabel]) -> list[str]:
    """Wrapping labels given less height than their text needs (their lines are cut)."""
    return [
        f"{w.objectName()}: {w.height()} < {w.heightForWidth(w.width())}"
        for w in widgets
        if w.isVisible() and w.height() < w.heightForWidth(w.width()) - 1
    ]


def _request_shown(qtbot: QtBot, qapp: QApplication, height: int) -> AgentWindow:
    w = window(qtbot, qapp, 780, height)
    w.request.ask(OperatorIdentity(display_name="Hanako Sato", organisation="Madoguchi Securities"), 60.0)
    w.show_page(w.request)
    qtbot.wait(50)
    return w


def test_the_request_page_fits_without_squeezing_the_promise(
    qtbot: QtBot, qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two-line English operator sentence, the promise box and the 22 PC information items
    fit the 660 px window, and the 560 px one on an 800x600 screen (compact): the list scrolls."""
    w = _request_shown(qtbot, qapp, 660)
    page = w.request
    assert not page.compact
    assert _squeezed([page.who, page.check, page.explain, page.countdown]) == []
    line = page.sysinfo_items.fontMetrics().lineSpacing()
    assert page.sysinfo_scroll.viewport().height() >= 2 * line

    monkeypatch.setattr("agent.ui.request.short_screen", lambda: True)
    monkeypatch.setattr("agent.ui.code.short_screen", lambda: True)
    small = _request_shown(qtbot, qapp, 560)
    assert small.request.compact
    assert small.code.compact
    assert small.minimumSizeHint().height() <= 560  # the window is not forced taller than the screen
    assert small.height() == 560
    page = small.request
    assert _squeezed([page.who, page.check, page.explain, page.countdown]) == []
    assert page.sysinfo_scroll.viewport().height() >= 2 * line
    assert page.allow_button.geometry().bottom() <= page.height()


def test_the_keyboard_guide_keeps_clear_of_the_sharing_card() -> None:
    from agent.ui.key_guide import _clear_of

    screen = QRect(0, 0, 1366, 768)
    card = QRect(1008, 626, 340, 124)
    # Centred at the bottom it would cover the card's left edge: it moves left of the card.
    x, y = _clear_of(QRect(323, 383, 720, 355), card, screen)
    assert QRect(x, y, 720, 355).right() < card.left()
    assert y == 383
    # On an 800x600 screen there is no room beside it: above the card instead.
    small, card = QRect(0, 0, 800, 600), QRect(442, 458, 340, 124)
    x, y = _clear_of(QRect(130, 146, 540, 300), card, small)
    assert not QRect(x, y, 540, 300).intersects(card)
    assert QRect(x, y, 540, 300).bottom() < card.top()
    # Nothing in the way: unchanged.
    assert _clear_of(QRect(10, 10, 100, 100), card, small) == (10, 10)
