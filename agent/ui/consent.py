"""First screen: the terms of use and the reminder to close private things (R15, R14).

Nothing is registered with the relay while this page is shown: the terms come
from a plain HTTP GET, and the session starts only when ``agreed`` fires.
"Agree" stays disabled until the terms are on screen, so nobody agrees to a
text they could not see.

On a short screen (800x600: the window is about 560 px high) the page goes
compact - tighter spacing, a smaller heading, intro and reminder - so the terms
box shows about nine lines instead of three (issue 18, item 9).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QTextBrowser, QWidget

from agent.ui.theme import HEADING_PX, SMALL_PX
from agent.ui.widgets import MARGIN, SPACING, button, button_row, label, notice, page_layout

__all__ = ["ConsentPage"]

COMPACT_BELOW = 600
"""Page height (px) under which the page goes compact."""


class ConsentPage(QWidget):
    agreed = Signal()
    cancelled = Signal()
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consentPage")
        self._state = "loading"
        self.heading = label("consentHeading", "heading")
        self.intro = label("consentIntro")
        self.terms = QTextBrowser()
        self.terms.setObjectName("termsText")
        self.terms.setOpenExternalLinks(False)
        self.terms.setOpenLinks(False)
        self.status = label("termsStatus", "muted")
        self.reminder = notice("privacyReminder")
        self.retry_button = button("termsRetry")
        self.cancel_button = button("consentCancel")
        self.agree_button = button("consentAgree", "primary")
        self.agree_button.setDefault(True)

        layout = page_layout(self)
        self._layout = layout
        self._compact: bool | None = None
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addWidget(self.terms, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.reminder)
        layout.addLayout(button_row(self.cancel_button, self.agree_button))

        self.agree_button.clicked.connect(self.agreed)
        self.cancel_button.clicked.connect(self.cancelled)
        self.retry_button.clicked.connect(self.retry_requested)
        self.retranslate()
        self.set_loading()

    # --- states ----------------------------------------------------------------------

    def set_loading(self) -> None:
        self._state = "loading"
        self.terms.clear()
        self._refresh()

    def set_terms(self, text: str) -> None:
        self._state = "ready"
        # Plain text: the admin's terms are shown as written, never interpreted as HTML.
        self.terms.setPlainText(text)
        self._refresh()
        self.agree_button.setFocus()

    def set_failed(self) -> None:
        self._state = "failed"
        self.terms.clear()
        self._refresh()
        self.retry_button.setFocus()

    @property
    def state(self) -> str:
        return self._state

    def _refresh(self) -> None:
        self.agree_button.setEnabled(self._state == "ready")
        self.retry_button.setVisible(self._state == "failed")
        self.status.setVisible(self._state != "ready")
        self.terms.setVisible(self._state == "ready")
        if self._state == "loading":
            self.status.setText(self.tr("Loading the terms of use…"))
        elif self._state == "failed":
            self.status.setText(
                self.tr(
                    "The terms of use could not be loaded from the support centre. "
                    "Please check that this computer is connected to the internet, then press Try again."
                )
            )

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Terms of use"))
        self.heading.setText(self.tr("Before we start"))
        self.intro.setText(
            self.tr(
                "Please read the terms of use. Your screen is shown to the operator only after you "
                "press “Agree” and then allow the operator who asks."
            )
        )
        self.terms.setAccessibleName(self.tr("Terms of use"))
        self.reminder.setText(
            self.tr(
                "Before sharing, please close personal documents, e-mail and anything else "
                "you do not want the operator to see."
            )
        )
        self.reminder.setAccessibleName(self.reminder.text())
        self.retry_button.setText(self.tr("Try again"))
        self.retry_button.setAccessibleName(self.tr("Load the terms of use again"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel and close"))
        self.agree_button.setText(self.tr("Agree"))
        self.agree_button.setAccessibleName(self.tr("Agree to the terms of use"))
        self._refresh()

    @property
    def compact(self) -> bool:
        return bool(self._compact)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._set_compact(event.size().height() < COMPACT_BELOW)
        super().resizeEvent(event)

    def _set_compact(self, compact: bool) -> None:
        if compact == self._compact:
            return
        self._compact = compact
        if compact:
            self._layout.setContentsMargins(MARGIN - 12, 8, MARGIN - 12, 10)
            self._layout.setSpacing(8)
            self.heading.setStyleSheet(f"font-size: {HEADING_PX - 6}px;")
            self.intro.setStyleSheet(f"font-size: {SMALL_PX}px;")
            self.reminder.setStyleSheet(f"font-size: {SMALL_PX}px; padding: 6px;")
        else:
            self._layout.setContentsMargins(MARGIN, MARGIN - 12, MARGIN, MARGIN - 6)
            self._layout.setSpacing(SPACING)
            for widget in (self.heading, self.intro, self.reminder):
                widget.setStyleSheet("")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
