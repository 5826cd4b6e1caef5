"""A calm page for when sharing cannot go on: busy lines, no connection, an expired number.

Each kind says what happened in everyday words and offers one clear next step
(try again / get a new number) plus Close. Technical details go to the log,
never to the customer.
"""

from __future__ import annotations

import enum
import math

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QWidget

from agent.ui.widgets import button, button_row, label, page_layout

__all__ = ["NoticeKind", "NoticePage"]


class NoticeKind(enum.Enum):
    BUSY = "busy"
    """All lines busy (R4): try again in a few minutes."""
    UNREACHABLE = "unreachable"
    """The relay could not be reached for a long time."""
    EXPIRED = "expired"
    """The number expired before an operator entered it."""
    FAILED = "failed"
    """The relay refused for another reason (old program version, internal error...)."""


class NoticePage(QWidget):
    retry_requested = Signal()
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticePage")
        self._kind = NoticeKind.FAILED
        self._retry_after_s: float | None = None
        self.heading = label("noticeHeading", "heading")
        self.body = label("noticeBody")
        self.body.setStyleSheet("font-size: 22px;")
        self.hint = label("noticeHint", "muted")
        self.close_button = button("noticeClose")
        self.retry_button = button("noticeRetry", "primary")
        self.retry_button.setDefault(True)
        layout = page_layout(self)
        layout.addWidget(self.heading)
        layout.addStretch(1)
        layout.addWidget(self.body)
        layout.addWidget(self.hint)
        layout.addStretch(2)
        layout.addLayout(button_row(self.close_button, self.retry_button))
        self.retry_button.clicked.connect(self.retry_requested)
        self.close_button.clicked.connect(self.close_requested)
        self.retranslate()

    @property
    def kind(self) -> NoticeKind:
        return self._kind

    def show_kind(self, kind: NoticeKind, retry_after_s: float | None = None) -> None:
        self._kind = kind
        self._retry_after_s = retry_after_s
        self.retranslate()
        self.retry_button.setFocus()

    def _busy_text(self) -> str:
        minutes = max(1, math.ceil((self._retry_after_s or 60.0) / 60.0))
        if minutes == 1:
            return self.tr("Sorry, all our lines are busy right now. Please try again in about a minute.")
        return self.tr(
            "Sorry, all our lines are busy right now. Please try again in about {minutes} minutes."
        ).format(minutes=minutes)

    def retranslate(self) -> None:
        kind = self._kind
        if kind is NoticeKind.BUSY:
            self.heading.setText(self.tr("All lines are busy"))
            self.body.setText(self._busy_text())
            self.hint.setText(self.tr("Your screen has not been shared."))
            self.retry_button.setText(self.tr("Try again"))
        elif kind is NoticeKind.UNREACHABLE:
            self.heading.setText(self.tr("Cannot connect to the support centre"))
            self.body.setText(
                self.tr("Please check that this computer is connected to the internet, then try again.")
            )
            self.hint.setText(self.tr("Your screen has not been shared."))
            self.retry_button.setText(self.tr("Try again"))
        elif kind is NoticeKind.EXPIRED:
            self.heading.setText(self.tr("This number has expired"))
            self.body.setText(
                self.tr(
                    "A number is valid for a short time only. "
                    "Please get a new number and read it to the operator."
                )
            )
            self.hint.setText(self.tr("Your screen has not been shared."))
            self.retry_button.setText(self.tr("Get a new number"))
        else:
            self.heading.setText(self.tr("Sharing could not be started"))
            self.body.setText(
                self.tr(
                    "Something went wrong on the way to the support centre. "
                    "Please try again, or tell the operator."
                )
            )
            self.hint.setText(self.tr("Your screen has not been shared."))
            self.retry_button.setText(self.tr("Try again"))
        self.setAccessibleName(self.heading.text())
        self.body.setAccessibleName(self.body.text())
        self.retry_button.setAccessibleName(self.retry_button.text())
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close the program"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
