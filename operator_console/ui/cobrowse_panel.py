"""The session panel of a co-browse session: the mirror's state, the page, the view's address.

The mirror itself is shown by the view page in the operator's own browser (served by the
console on 127.0.0.1, docs/cobrowse.md "The operator's view: decision"); this panel takes
the place of the picture in the tab and says what the view shows: connected and waiting,
sharing (with the page's address), "this page is not shared", "paused: the customer is
typing", the customer opening another page, ended. "Open the view" opens it again (the
tab opens it once by itself when the session starts); the address can be copied.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget

from client_core.line_breaks import phrase_breaks
from operator_console.cobrowse import CobrowseView

__all__ = ["CobrowsePanel"]

_STATE_STYLES = {
    "sharing": "background: #e6f4ea; color: #0d652d; border: 1px solid #81c995;",
    "waiting": "background: #e8f0fe; color: #174ea6; border: 1px solid #aecbfa;",
    "changing_page": "background: #e8f0fe; color: #174ea6; border: 1px solid #aecbfa;",
    "not_shared": "background: #fef7e0; color: #3c2f00; border: 1px solid #f9ab00;",
    "keyboard": "background: #fef7e0; color: #3c2f00; border: 1px solid #f9ab00;",
    "ended": "background: #f1f3f4; color: #3c4043; border: 1px solid #bdc1c6;",
}


class CobrowsePanel(QWidget):
    """What the tab shows in place of the picture while co-browsing."""

    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cobrowsePanel")
        self.view = CobrowseView()
        self.title = QLabel()
        self.title.setObjectName("cobrowseTitle")
        self.title.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.state_label = QLabel()
        self.state_label.setObjectName("cobrowseState")
        self.state_label.setWordWrap(True)
        self.page_label = QLabel()
        self.page_label.setObjectName("cobrowsePage")
        self.page_label.setWordWrap(True)
        self.page_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton()
        self.open_button.setObjectName("openViewButton")
        self.open_button.setStyleSheet("QPushButton { padding: 6px 16px; font-weight: bold; }")
        self.open_button.clicked.connect(self.open_requested)
        self.note = QLabel()
        self.note.setObjectName("cobrowseNote")
        self.note.setWordWrap(True)
        self.address_note = QLabel()
        self.address_note.setWordWrap(True)
        self.address = QLineEdit()
        self.address.setObjectName("viewAddress")
        self.address.setReadOnly(True)

        # In a scroll area: the panel never widens the window beyond what the picture needed.
        content = QWidget()
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title)
        layout.addWidget(self.state_label)
        layout.addWidget(self.page_label)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.note)
        layout.addStretch(1)
        layout.addWidget(self.address_note)
        layout.addWidget(self.address)
        self.retranslate()

    def set_view(self, view: CobrowseView) -> None:
        self.view = view
        self._render()

    def state_text(self) -> str:
        """The state in words, as the view in the browser says it (web/viewer/viewer.js)."""
        texts = {
            "waiting": self.tr("Connected. Waiting for the customer's page…"),
            "sharing": self.tr("Sharing: the customer's page is shown in your web browser."),
            "not_shared": self.tr("This page is not shared"),
            "keyboard": self.tr("Paused: the customer is typing"),
            "changing_page": self.tr("The customer is opening another page…"),
            "ended": self.tr("Sharing has ended"),
        }
        return texts[self.view.state]

    def language(self) -> str:
        """The view's language, the console's own: ``ja`` or ``en``."""
        return "ja" if self.tr("en", "the language code of this translation") == "ja" else "en"

    def view_address(self) -> str:
        """The view's address in the console's language ("" until it listens)."""
        return f"{self.view.url}?lang={self.language()}" if self.view.url else ""

    def _render(self) -> None:
        view = self.view
        self.state_label.setText(self.state_text())
        self.state_label.setStyleSheet(f"{_STATE_STYLES[view.state]} padding: 10px; border-radius: 6px;")
        self.page_label.setVisible(bool(view.page) and view.state != "ended")
        self.page_label.setText(self.tr("Page: {page}").format(page=view.page))
        self.open_button.setEnabled(bool(view.url) and view.state != "ended")
        self.address.setText(self.view_address())
        self.address.setVisible(bool(view.url) and view.state != "ended")
        self.address_note.setVisible(self.address.isVisibleTo(self))

    def retranslate(self) -> None:
        self.title.setText(self.tr("Co-browsing (website)"))
        self.open_button.setText(self.tr("Open the view in your browser"))
        # Japanese wraps between phrases, never inside お客さま (client_core.line_breaks).
        self.note.setText(
            phrase_breaks(
                self.tr(
                    "The customer's page is shown in your web browser, with what they type hidden."
                    " Click on it to point at a place: the customer sees a circle there."
                    " You cannot type or operate the customer's page."
                )
            )
        )
        self.address_note.setText(
            phrase_breaks(self.tr("If the view did not open, paste this address into your browser:"))
        )
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
