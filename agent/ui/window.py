"""The agent's main window: a title bar with the language switch, and one page at a time.

Closing the window does not simply quit: the controller decides (a running
session must end cleanly with a goodbye to the operator first, and after
sharing the customer must still see the summary with the password reminder).

Staying visible (issue 18, item 9): while the number is shown and while an
operator's request waits for an answer, the window stays on top of other
windows - one click on the browser must not bury the number the customer is
reading out, or the question they must answer. It does not take the keyboard
focus for that (only a new request is brought to the front and activated), and
on the other pages (terms, notices, summary) it is an ordinary window again.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from agent.ui.code import CodePage
from agent.ui.consent import ConsentPage
from agent.ui.language import LanguageButton
from agent.ui.notice import NoticePage
from agent.ui.request import RequestPage
from agent.ui.summary import SummaryPage
from agent.ui.widgets import label
from client_core.i18n import Language

__all__ = ["AgentWindow"]

WIDTH, HEIGHT = 780, 660
"""Fits an 800x600 display (R21) with room for a task bar; larger screens get the same calm size."""


class AgentWindow(QMainWindow):
    close_requested = Signal()

    def __init__(self, language: Language) -> None:
        super().__init__(None)
        self.setObjectName("agentWindow")
        self.allow_close = False
        """Set by the controller once closing is safe; until then a close only asks."""
        central = QWidget()
        central.setObjectName("AgentWindowCentral")
        self.title = label("windowTitle", wrap=False)
        self.title.setStyleSheet("font-size: 18px; color: #4A5866;")
        self.language_button = LanguageButton(language)
        header = QHBoxLayout()
        header.setContentsMargins(24, 12, 16, 0)
        header.addWidget(self.title, 1)
        header.addWidget(self.language_button)

        self.consent = ConsentPage()
        self.code = CodePage()
        self.request = RequestPage()
        self.notice = NoticePage()
        self.summary = SummaryPage()
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        for page in (self.consent, self.code, self.request, self.notice, self.summary):
            self.pages.addWidget(page)

        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.retranslate()
        self._fit()

    def _fit(self) -> None:
        area = QGuiApplication.primaryScreen().availableGeometry()
        width, height = min(WIDTH, area.width() - 20), min(HEIGHT, area.height() - 40)
        self.resize(width, height)
        self.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)
        self.set_on_top(page in (self.code, self.request))

    @property
    def on_top(self) -> bool:
        return bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint)

    def set_on_top(self, on_top: bool) -> None:
        """Keep above other windows (or not) without taking the focus."""
        if on_top == self.on_top:
            return
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on_top)  # hides a shown window
        if visible:
            self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
            self.show()
            self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)

    @property
    def current_page(self) -> QWidget | None:
        return self.pages.currentWidget()

    def bring_to_front(self) -> None:
        """Restore and raise: the customer must notice a question or the summary."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Screen sharing support"))
        self.title.setText(self.tr("Screen sharing support"))
        self.setAccessibleName(self.windowTitle())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.allow_close:
            event.accept()
            return
        event.ignore()
        self.close_requested.emit()
