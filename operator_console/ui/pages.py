"""The pages around a live session: code entry, waiting for Allow, session ended.

Each page is big and plain on purpose: the operator is on the phone, reads a
number back, and needs to see at a glance what happens. Messages are kept as
callables so that they re-render in the other language after a switch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QGuiApplication, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from protocol import AGENT_CODE_DIGITS

__all__ = ["CodePage", "EndedPage", "WaitingPage", "WrapUp", "format_duration"]

logger = logging.getLogger(__name__)

Text = Callable[[], str]

_ERROR_STYLE = "color: #c5221f;"
_INFO_STYLE = "color: #1a73e8;"


def _big_font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


class _Countdown:
    """Seconds left until a deadline, shown in a label once a second."""

    def __init__(self, owner: QWidget, render: Callable[[int], None]) -> None:
        self._deadline: float | None = None
        self._render = render
        self._timer = QTimer(owner)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.tick)

    def start(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self._timer.start()
        self.tick()

    def stop(self) -> None:
        self._deadline = None
        self._timer.stop()

    def remaining(self) -> int | None:
        if self._deadline is None:
            return None
        return max(0, round(self._deadline - time.monotonic()))

    def tick(self) -> None:
        left = self.remaining()
        if left is None:
            return
        self._render(left)
        if left == 0:
            self._timer.stop()


class CodePage(QWidget):
    """A large input for the customer's 4-digit code; optionally issue a 6-digit code (R2)."""

    connect_requested = Signal(str)
    issue_requested = Signal()
    cancel_issue_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codePage")
        self._title = QLabel()
        self._title.setFont(_big_font(22, bold=True))
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint = QLabel()
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)

        self.code = QLineEdit()
        self.code.setObjectName("codeInput")
        self.code.setFont(_big_font(56, bold=True))
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setMaxLength(AGENT_CODE_DIGITS)
        self.code.setValidator(
            QRegularExpressionValidator(QRegularExpression(f"[0-9]{{0,{AGENT_CODE_DIGITS}}}"), self.code)
        )
        self.code.setFixedWidth(300)
        self.code.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.code.returnPressed.connect(self._connect)
        self.code.textEdited.connect(lambda _: self.set_message(None))

        self.connect_button = QPushButton()
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setFont(_big_font(18))
        self.connect_button.setMinimumHeight(44)
        self.connect_button.clicked.connect(self._connect)

        self.message = QLabel()
        self.message.setObjectName("codeMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setFont(_big_font(15))
        self._message: Text | None = None
        self._message_is_error = True

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        self._issue_hint = QLabel()
        self._issue_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._issue_hint.setWordWrap(True)
        self.issue_button = QPushButton()
        self.issue_button.setObjectName("issueCodeButton")
        self.issue_button.clicked.connect(self.issue_requested)
        self.issued = QLabel()
        self.issued.setObjectName("issuedCode")
        self.issued.setFont(_big_font(64, bold=True))
        self.issued.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.issued.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.issued_note = QLabel()
        self.issued_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.issued_note.setWordWrap(True)
        self.cancel_issue_button = QPushButton()
        self.cancel_issue_button.setObjectName("cancelIssuedCode")
        self.cancel_issue_button.clicked.connect(self.cancel_issue_requested)
        self._issued_code: str | None = None
        self._issued_countdown = _Countdown(self, lambda _: self._render_issued())

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.code)
        row.addWidget(self.connect_button)
        row.addStretch(1)
        issue_row = QHBoxLayout()
        issue_row.addStretch(1)
        issue_row.addWidget(self.issue_button)
        issue_row.addWidget(self.cancel_issue_button)
        issue_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self._title)
        layout.addWidget(self._hint)
        layout.addSpacing(16)
        layout.addLayout(row)
        layout.addSpacing(8)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(line)
        layout.addWidget(self._issue_hint)
        layout.addLayout(issue_row)
        layout.addWidget(self.issued)
        layout.addWidget(self.issued_note)
        layout.addStretch(2)
        self.retranslate()

    def _connect(self) -> None:
        code = self.code.text().strip()
        if len(code) != AGENT_CODE_DIGITS:
            self.set_message(
                lambda: self.tr("Enter the {n} digits the customer reads to you.").format(n=AGENT_CODE_DIGITS)
            )
            return
        self.connect_requested.emit(code)

    def set_busy(self, busy: bool) -> None:
        """While a claim or login is under way, nothing can be sent twice."""
        self.code.setReadOnly(busy)
        self.connect_button.setEnabled(not busy)
        self.issue_button.setEnabled(not busy and self._issued_code is None)
        self.issue_button.setVisible(self._issued_code is None)

    def set_message(self, text: Text | None, *, error: bool = True) -> None:
        self._message = text
        self._message_is_error = error
        self._render_message()

    def message_text(self) -> str:
        return self.message.text()

    def _render_message(self) -> None:
        self.message.setText("" if self._message is None else self._message())
        self.message.setStyleSheet(_ERROR_STYLE if self._message_is_error else _INFO_STYLE)

    def show_issued(self, code: str | None, expires_in_s: float = 0.0) -> None:
        self._issued_code = code
        if code is None:
            self._issued_countdown.stop()
        else:
            self._issued_countdown.start(expires_in_s)
        self.issue_button.setEnabled(code is None)
        self.issue_button.setVisible(code is None)
        self._render_issued()

    def _render_issued(self) -> None:
        code = self._issued_code
        self.issued.setVisible(code is not None)
        self.issued_note.setVisible(code is not None)
        self.cancel_issue_button.setVisible(code is not None)
        if code is None:
            return
        self.issued.setText(f"{code[:3]} {code[3:]}")
        left = self._issued_countdown.remaining() or 0
        if left > 0:
            note = self.tr(
                "Read this number to the customer; they type it on the start page of the support site, "
                'or after "Share with staff" on your company\'s website. Valid for {m}:{s:02d}.'
            )
            self.issued_note.setText(note.format(m=left // 60, s=left % 60))
        else:
            self.issued_note.setText(self.tr("This number has expired. Issue a new one."))

    @property
    def issued_code(self) -> str | None:
        return self._issued_code

    def reset(self) -> None:
        self.code.clear()
        self.set_busy(False)
        self.show_issued(None)
        self.code.setFocus()

    def retranslate(self) -> None:
        self._title.setText(self.tr("Customer's number"))
        hint = self.tr("Ask the customer for the {n}-digit number on their screen, type it and press Enter.")
        self._hint.setText(hint.format(n=AGENT_CODE_DIGITS))
        self.code.setPlaceholderText("0000")
        self.connect_button.setText(self.tr("Connect"))
        self._issue_hint.setText(
            self.tr(
                "No number on the customer's screen? Issue a number: the customer types it "
                'on the start page of the support site, or after "Share with staff" on your '
                "company's website (co-browsing)."
            )
        )
        self.issue_button.setText(self.tr("Issue a 6-digit number"))
        self.cancel_issue_button.setText(self.tr("Cancel this number"))
        self._render_message()
        self._render_issued()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class WaitingPage(QWidget):
    """The code is right; the customer sees the operator's name and decides."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("waitingPage")
        self._title = QLabel()
        self._title.setObjectName("waitingTitle")
        self._title.setFont(_big_font(24, bold=True))
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._title.setWordWrap(True)
        self.countdown_label = QLabel()
        self.countdown_label.setObjectName("waitingCountdown")
        self.countdown_label.setFont(_big_font(48, bold=True))
        self.countdown_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint = QLabel()
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)
        self.cancel_button = QPushButton()
        self.cancel_button.setObjectName("cancelWaiting")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._countdown = _Countdown(self, self._render_countdown)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self._title)
        layout.addWidget(self.countdown_label)
        layout.addWidget(self._hint)
        layout.addSpacing(16)
        layout.addLayout(row)
        layout.addStretch(3)
        self.retranslate()

    def start(self, timeout_s: float) -> None:
        self._countdown.start(timeout_s)

    def stop(self) -> None:
        self._countdown.stop()

    def remaining(self) -> int | None:
        return self._countdown.remaining()

    def _render_countdown(self, left: int) -> None:
        self.countdown_label.setText(self.tr("{n} s").format(n=left))

    def retranslate(self) -> None:
        self._title.setText(self.tr("Waiting for the customer to allow…"))
        self._hint.setText(
            self.tr("The customer sees your name and organisation and clicks Allow to start sharing.")
        )
        self.cancel_button.setText(self.tr("Cancel"))
        left = self._countdown.remaining()
        if left is not None:
            self._render_countdown(left)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


@dataclasses.dataclass(frozen=True)
class WrapUp:
    """What the operator needs after the call to fill in the CRM, kept only on screen."""

    reason: Text
    code: str | None = None
    started: dt.datetime | None = None
    """Wall-clock time the picture first arrived; None when the session never went live."""
    duration_s: float | None = None
    customer_info: str = ""
    """The customer information as text (:meth:`SysInfoPanel.as_text`), empty if none arrived."""


def format_duration(seconds: float) -> str:
    """``754`` -> ``"12:34"``; an hour or more -> ``"1:02:03"``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class EndedPage(QWidget):
    """The wrap-up: why the session ended, its facts, the customer information and notes.

    The notes field is for the operator's own summary to paste into the CRM. It lives in
    this widget only: never sent anywhere, never written to disk, cleared for the next
    customer.
    """

    next_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("endedPage")
        self._title = QLabel()
        self._title.setFont(_big_font(18))
        self.reason = QLabel()
        self.reason.setObjectName("endedReason")
        self.reason.setFont(_big_font(24, bold=True))
        self.reason.setWordWrap(True)

        self._code_label, self.code_value = QLabel(), QLabel()
        self._started_label, self.started_value = QLabel(), QLabel()
        self._duration_label, self.duration_value = QLabel(), QLabel()
        facts = QFormLayout()
        for label, value in (
            (self._code_label, self.code_value),
            (self._started_label, self.started_value),
            (self._duration_label, self.duration_value),
        ):
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setFont(_big_font(16, bold=True))
            facts.addRow(label, value)

        self._info_label = QLabel()
        self.customer_info = QPlainTextEdit()
        self.customer_info.setObjectName("wrapUpInfo")
        self.customer_info.setReadOnly(True)
        self._notes_label = QLabel()
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("wrapUpNotes")
        self.privacy = QLabel()
        self.privacy.setObjectName("wrapUpPrivacy")
        self.privacy.setWordWrap(True)
        self.privacy.setStyleSheet("color: #5f6368;")
        self.copy_button = QPushButton()
        self.copy_button.setObjectName("copyWrapUp")
        self.copy_button.clicked.connect(self.copy)
        self.copied = QLabel()
        self.copied.setObjectName("wrapUpCopied")
        self.next_button = QPushButton()
        self.next_button.setObjectName("nextButton")
        self.next_button.setFont(_big_font(16))
        self.next_button.setMinimumHeight(40)
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next_requested)
        self._wrap_up: WrapUp | None = None

        columns = QHBoxLayout()
        info_column = QVBoxLayout()
        info_column.addWidget(self._info_label)
        info_column.addWidget(self.customer_info, 1)
        notes_column = QVBoxLayout()
        notes_column.addWidget(self._notes_label)
        notes_column.addWidget(self.notes, 1)
        notes_column.addWidget(self.privacy)
        columns.addLayout(info_column, 1)
        columns.addLayout(notes_column, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.copied)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(self._title)
        layout.addWidget(self.reason)
        layout.addLayout(facts)
        layout.addSpacing(8)
        layout.addLayout(columns, 1)
        layout.addLayout(buttons)
        self.retranslate()

    def set_reason(self, text: Text) -> None:
        self.set_wrap_up(WrapUp(reason=text))

    def set_wrap_up(self, wrap_up: WrapUp) -> None:
        self._wrap_up = wrap_up
        self.notes.clear()
        self.copied.clear()
        self.customer_info.setPlainText(wrap_up.customer_info)
        self._render()

    def clear(self) -> None:
        """The next customer: nothing of this one stays, notes included."""
        self._wrap_up = None
        self.notes.clear()
        self.customer_info.clear()
        self.copied.clear()
        self._render()

    def as_text(self) -> str:
        """The wrap-up as plain text for the CRM: facts, notes, then the customer information."""
        lines = [
            f"{self._code_label.text()} {self.code_value.text()}",
            f"{self._started_label.text()} {self.started_value.text()}",
            f"{self._duration_label.text()} {self.duration_value.text()}",
            f"{self._reason_label_text()} {self.reason.text()}",
        ]
        notes = self.notes.toPlainText().strip()
        if notes:
            lines += ["", self._notes_label.text(), notes]
        info = self.customer_info.toPlainText().strip()
        if info:
            lines += ["", self._info_label.text(), info]
        return "\n".join(lines)

    def copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.as_text())
            self.copied.setText(self.tr("Copied."))

    def _reason_label_text(self) -> str:
        return self.tr("How it ended:")

    def _render(self) -> None:
        w = self._wrap_up
        none = self.tr("—")
        self.reason.setText("" if w is None else w.reason())
        self.code_value.setText(w.code if w is not None and w.code else none)
        started = w.started if w is not None else None
        self.started_value.setText(started.strftime("%Y-%m-%d %H:%M") if started is not None else none)
        duration = w.duration_s if w is not None else None
        self.duration_value.setText(format_duration(duration) if duration is not None else none)
        has_info = w is not None and bool(w.customer_info)
        self.customer_info.setPlaceholderText(self.tr("No customer information was received."))
        self.customer_info.setEnabled(has_info)

    def retranslate(self) -> None:
        self._title.setText(self.tr("Session ended"))
        self._code_label.setText(self.tr("Number:"))
        self._started_label.setText(self.tr("Started:"))
        self._duration_label.setText(self.tr("Duration:"))
        self._info_label.setText(self.tr("Customer information:"))
        self._notes_label.setText(self.tr("Your notes for the CRM:"))
        self.notes.setPlaceholderText(self.tr("What the customer needed, what you did, what is next…"))
        self.privacy.setText(
            self.tr(
                "Notes stay on this screen only: they are never sent anywhere and never stored. "
                "Copy them into the CRM before you go to the next customer."
            )
        )
        self.copy_button.setText(self.tr("Copy for the CRM"))
        self.copy_button.setToolTip(self.tr("Copy the facts, your notes and the customer information"))
        self.next_button.setText(self.tr("Next customer"))
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
