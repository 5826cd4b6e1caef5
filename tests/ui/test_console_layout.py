"""The console fits a 1366x768 laptop and a 1920x1080 screen at 125 %, in both languages.

Every page of a session tab (code, with the bar asking for the password again, issued
number, waiting, live with each side panel, wrap-up) is laid out at the window size the
console opens with on those screens, and checked the way an operator would notice a
problem: a button outside the window or behind the edge of a scroll area that cannot
scroll there, a button or label whose text does not fit (cut off), the keyboard guide's
Send / Hide buttons and its "shown to the customer" line not in view. The 125 % run is a
separate process with ``QT_SCALE_FACTOR=1.25`` (Qt reads it once, at start-up).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QScrollArea,
    QWidget,
)

from client_core.i18n import Language, switch_language
from client_core.loop_thread import LoopThread
from operator_console.ui.main_window import I18N_DIR, I18N_DOMAIN, ConsoleWindow
from operator_console.ui.pages import WrapUp
from operator_console.ui.session_tab import SessionTab
from operator_console.ui.settings import ConsoleSettings, settings_at
from operator_console.ui.theme import apply_console_theme
from protocol import MonitorInfo, Monitors, SysInfoReport

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]

LAPTOP = (1297, 655)
"""1366x768 with a 40 px taskbar: the console's default window (95 % x 90 % of the work area)."""
FULL_HD_125 = (1459, 748)
"""1920x1080 at 125 %: a 1536x864 logical screen, the same default window rule."""


def _scroll_ancestor(widget: QWidget, top: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def page_problems(window: QWidget, where: str) -> list[str]:
    """What an operator could not read or reach on the window as it is laid out now."""
    problems: list[str] = []
    inside = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.window() is not window:
            continue
        name = f"{where}: {type(widget).__name__} {widget.objectName() or ''} {_text(widget)!r}"
        scroll = _scroll_ancestor(widget, window)
        if isinstance(widget, QAbstractButton) and not widget.text():
            continue  # icon-only (a tab's close button)
        if isinstance(widget, QAbstractButton | QComboBox):
            rect = _rect_in(widget, window)
            if scroll is None and not inside.contains(rect):
                problems.append(f"{name}: outside the window {rect}")
            if scroll is not None:
                # Reachable: within the scrolled content, and no sideways scrolling needed.
                content = scroll.widget()
                assert content is not None
                if not content.rect().contains(_rect_in(widget, content)):
                    problems.append(f"{name}: outside its scroll area's content")
                if _rect_in(widget, content).right() > scroll.viewport().width():
                    problems.append(f"{name}: beyond the right edge of its scroll area")
            hint = widget.sizeHint()
            line = widget.fontMetrics().height()
            if isinstance(widget, QComboBox) and widget.count():
                longest = max(
                    widget.fontMetrics().horizontalAdvance(widget.itemText(i)) for i in range(widget.count())
                )
                if widget.width() < longest + 24:  # the text plus the arrow
                    problems.append(f"{name}: {widget.width()} px cannot show {longest} px of text")
            if widget.width() < hint.width() - 1 or widget.height() < line + 2:
                problems.append(f"{name}: {widget.width()}x{widget.height()} < text {hint.width()}x{line}")
        elif _cut_off_label(widget):
            problems.append(f"{name}: label cut off ({widget.width()} < {widget.sizeHint().width()})")
    return problems


def _cut_off_label(widget: QWidget) -> bool:
    """A one-line label narrower than its text (a wrapping label grows instead)."""
    if not isinstance(widget, QLabel) or not widget.text() or widget.wordWrap():
        return False
    return widget.pixmap().isNull() and widget.width() < widget.sizeHint().width() - 1


def _text(widget: QWidget) -> str:
    if isinstance(widget, QAbstractButton | QLabel):
        return widget.text()[:40]
    if isinstance(widget, QComboBox):
        return widget.currentText()[:40]
    return ""


def pinned_in_view(tab: SessionTab, window: QWidget) -> list[str]:
    """Send, Hide and the 'shown to the customer' line are on screen without scrolling."""
    problems = []
    for widget in (tab.key_guide.send_button, tab.key_guide.clear_button, tab.key_guide.sent_note):
        rect = _rect_in(widget, window)
        if not window.rect().contains(rect) or _scroll_ancestor(widget, window) is not None:
            problems.append(f"keyboard guide: {widget.objectName()} not pinned in view ({rect})")
        if widget.visibleRegion().boundingRect().size() != widget.size():
            problems.append(f"keyboard guide: {widget.objectName()} partly hidden")
    return problems


REPORT = SysInfoReport(
    scope="detailed",
    data={
        "os": "Windows 11 Pro",
        "physical_memory_bytes": 16 * 1024**3,
        "cpu_clock_mhz": 2596,
        "firewall": {"enabled": False, "provider": "Windows Defender Firewall"},
    },
    unavailable={},
)
MONITORS = Monitors(
    monitors=(
        MonitorInfo(index=0, x=0, y=0, width=1920, height=1080, primary=True),
        MonitorInfo(index=1, x=1920, y=0, width=1920, height=1080),
    ),
    active=2,
)


def layout_problems(size: tuple[int, int], language: Language, settings_file: Path) -> list[str]:
    """Lay every page of a tab out at ``size`` in ``language``; return what does not fit."""
    from operator_console.ui.bridge import SessionBridge

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    font, style = app.font(), app.styleSheet()
    apply_console_theme(app)
    switch_language(I18N_DIR, I18N_DOMAIN, language)
    loop = LoopThread("console-net")
    problems: list[str] = []
    try:
        window = ConsoleWindow(
            loop, ConsoleSettings(settings_at(settings_file)), relay_url="http://127.0.0.1:9", token="t"
        )
        tab = window.add_session(SessionBridge(loop, "http://127.0.0.1:9"))
        window.resize(*size)
        window.show()

        def check(where: str) -> None:
            for _ in range(3):
                app.processEvents()
            problems.extend(page_problems(window, where))

        tab.code_page.set_busy(False)
        check("code")
        window.relogin.ask()  # the relay refused the token: the password is asked for over the tabs
        check("code, login again")
        window.relogin.hide()
        tab.code_page.show_issued("884219", 300)
        check("issued number")
        tab.code_page.show_issued(None)
        tab.waiting_page.start(60)
        tab.pages.setCurrentWidget(tab.waiting_page)
        check("waiting")
        tab.waiting_page.stop()
        tab.pages.setCurrentWidget(tab.live_page)
        tab.monitors = MONITORS
        tab._show_monitors()
        tab.key_guide.add_combo(("Ctrl", "Shift", "Esc"))
        tab.key_guide.add_combo(("HankakuZenkaku",))
        tab.key_guide.send()
        tab.show_key_guide()
        check("live, keyboard guide")
        problems.extend(pinned_in_view(tab, window))
        tab.info_panel.set_report(REPORT)
        tab.show_info()
        check("live, customer information")
        tab._set_client("browser", guidance_on_screen=False)  # normal mode: label, note, tools off
        tab.show_key_guide()
        check("live, browser customer")
        problems.extend(pinned_in_view(tab, window))
        tab.ended_page.set_wrap_up(
            WrapUp(
                reason=lambda: "The customer ended the session.",
                code="6220",
                duration_s=754,
                customer_info="OS: x",
            )
        )
        tab.pages.setCurrentWidget(tab.ended_page)
        check("wrap-up")
        window.close()
    finally:
        switch_language(I18N_DIR, I18N_DOMAIN, "en")
        app.setFont(font)  # the other tests in this process keep their look
        app.setStyleSheet(style)
        loop.stop()
    return problems


@pytest.mark.parametrize("language", ["ja", "en"])
def test_laptop_1366x768(qapp: QApplication, language: Language, tmp_path: Path) -> None:
    assert layout_problems(LAPTOP, language, tmp_path / "c.ini") == []


def test_full_hd_at_125_percent(tmp_path: Path) -> None:
    probe = (
        "import json, sys; from pathlib import Path; from PySide6.QtWidgets import QApplication;"
        "from tests.ui.test_console_layout import FULL_HD_125, layout_problems;"
        "app = QApplication([]);"
        "ratio = app.primaryScreen().devicePixelRatio();"
        "assert abs(ratio - 1.25) < 0.01, ratio;"
        "print(json.dumps({lang: layout_problems(FULL_HD_125, lang, Path(sys.argv[1]) / (lang + '.ini'))"
        " for lang in ('ja', 'en')}))"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="1.25")
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    problems = json.loads(result.stdout.strip().splitlines()[-1])
    assert problems == {"ja": [], "en": []}


def test_the_check_catches_a_cut_off_button(qapp: QApplication) -> None:
    """The layout check can fail: a button narrower than its text is reported."""
    from PySide6.QtWidgets import QPushButton, QVBoxLayout

    window = QWidget()
    layout = QVBoxLayout(window)
    button = QPushButton("Hide keyboard guide from customer")
    button.setFixedWidth(60)
    layout.addWidget(button)
    window.resize(300, 100)
    window.show()
    qapp.processEvents()
    assert any("< text" in p for p in page_problems(window, "probe"))
    window.close()
