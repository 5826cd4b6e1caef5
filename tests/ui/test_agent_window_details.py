"""Issue 18, item 9 on the customer's side: the number page's buttons, the terms at
800x600, and the window that must not get buried while the number is read out."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agent.ui.theme import apply_theme
from agent.ui.window import AgentWindow

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
