"""Second screen: the 4-digit number the customer reads to the operator (R1).

The digits are drawn one per box, very large, black on white, so they can be
read aloud from a distance and never run together ("1 1 7 1"). The page also
says how long the number stays valid and what is happening: connecting, waiting
for the operator, or reconnecting after a network hiccup (the number stays the
same then, and the page says so, so nobody reads out a stale number).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from agent.ui import theme
from agent.ui.widgets import button, compact_page, label, notice, page_layout, short_screen

__all__ = ["CodeDigits", "CodePage", "format_remaining"]

logger = logging.getLogger(__name__)

DIGIT_PX = 104


def format_remaining(seconds: float) -> tuple[int, int]:
    """Whole minutes and seconds left, rounding up so "0:00" means really expired."""
    total = max(0, int(seconds + 0.999))
    return divmod(total, 60)


class CodeDigits(QWidget):
    """The code as separate large boxed digits; placeholders while there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeDigits")
        self._code = ""
        self._dimmed = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Focusable so a screen reader reads the number when the page opens.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    @property
    def code(self) -> str:
        return self._code

    def set_code(self, code: str, *, dimmed: bool = False) -> None:
        self._code = code
        self._dimmed = dimmed
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(4 * (DIGIT_PX + 24), DIGIT_PX + 56)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        digits = self._code or "----"
        box_w, box_h, gap = DIGIT_PX * 0.86, DIGIT_PX * 1.3, DIGIT_PX * 0.24
        total = len(digits) * box_w + (len(digits) - 1) * gap
        x = (self.width() - total) / 2
        y = (self.height() - box_h) / 2
        font = theme.font(DIGIT_PX, bold=True)
        painter.setFont(font)
        text_colour = theme.color("#9AA3AD" if (self._dimmed or not self._code) else "#000000")
        for digit in digits:
            rect = QRectF(x, y, box_w, box_h)
            painter.setPen(QPen(theme.color(theme.TEXT), 3))
            painter.setBrush(theme.color(theme.SURFACE))
            painter.drawRoundedRect(rect, 14, 14)
            painter.setPen(text_colour)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, digit if self._code else "–")
            x += box_w + gap
        painter.end()


class CodePage(QWidget):
    new_code_requested = Signal()
    cancelled = Signal()

    def __init__(self, clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codePage")
        self._clock = clock
        self._state = "connecting"
        self._attempt = 0
        self._deadline: float | None = None
        self._changed_note = False
        self.heading = label("codeHeading", "heading")
        self.instruction = label("codeInstruction")
        self.instruction.setStyleSheet("font-size: 26px; font-weight: bold;")
        self.digits = CodeDigits()
        self.expiry = label("codeExpiry")
        self.expiry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = label("codeStatus", "muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.changed = notice("codeChanged")
        self.cancel_button = button("codeCancel")
        # A quiet link under the number, not a button as big as Cancel: pressed while the
        # operator types, it would void the number being read out (issue 18, item 9).
        self.new_code_button = button("codeNew", "quiet")

        layout = page_layout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.instruction)
        layout.addStretch(1)
        layout.addWidget(self.digits)
        layout.addWidget(self.expiry)
        layout.addWidget(self.status)
        layout.addWidget(self.changed)
        layout.addWidget(self.new_code_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.cancel_button)
        bottom.addStretch(1)
        layout.addLayout(bottom)
        self.compact = short_screen()
        """On an 800x600 screen: tighter spacing and a smaller heading; the digits keep their size."""
        if self.compact:
            compact_page(layout)
            self.heading.setStyleSheet(f"font-size: {theme.HEADING_PX - 6}px;")
            self.instruction.setStyleSheet("font-size: 22px; font-weight: bold;")

        self.new_code_button.clicked.connect(self.new_code_requested)
        self.cancel_button.clicked.connect(self.cancelled)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._refresh)
        self.retranslate()

    # --- states ----------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def code(self) -> str:
        return self.digits.code

    def set_connecting(self, attempt: int = 0) -> None:
        """No number yet (registering); ``attempt`` > 0 while the relay cannot be reached."""
        self._state = "connecting"
        self._attempt = attempt
        self._deadline = None
        self._timer.stop()
        self.digits.set_code("")
        self._refresh()

    def set_code(self, code: str, expires_in_s: float, *, changed: bool = False) -> None:
        """Show ``code``; ``changed`` says the previous number is no longer valid."""
        if self._state == "waiting" and code != self.digits.code:
            changed = True
        self._state = "waiting"
        self._changed_note = changed or (self._changed_note and code == self.digits.code)
        self._deadline = self._clock() + expires_in_s
        self.digits.set_code(code)
        self._timer.start()
        self._refresh()
        self.digits.setFocus()
        logger.info("code shown, valid %.0f s", expires_in_s)

    def set_reconnecting(self, attempt: int) -> None:
        if self._state in ("waiting", "reconnecting"):
            self._state = "reconnecting"
            self._attempt = attempt
            self.digits.set_code(self.digits.code, dimmed=True)
            self._refresh()
        else:
            self.set_connecting(attempt)

    def remaining_s(self) -> float:
        return 0.0 if self._deadline is None else max(0.0, self._deadline - self._clock())

    def _refresh(self) -> None:
        waiting = self._state in ("waiting", "reconnecting")
        self.new_code_button.setEnabled(self._state == "waiting")
        self.expiry.setVisible(waiting)
        self.changed.setVisible(waiting and self._changed_note)
        if waiting:
            minutes, seconds = format_remaining(self.remaining_s())
            self.expiry.setText(
                self.tr("This number is valid for {minutes} min {seconds:02d} s.").format(
                    minutes=minutes, seconds=seconds
                )
            )
            spoken = " ".join(self.digits.code)
            self.digits.setAccessibleName(self.tr("Your number: {digits}").format(digits=spoken))
        else:
            self.digits.setAccessibleName(self.tr("No number yet"))
        if self._state == "connecting":
            if self._attempt > 0:
                self.status.setText(
                    self.tr(
                        "Cannot reach the support centre yet. Trying again… (attempt {attempt})\n"
                        "Please check that this computer is connected to the internet."
                    ).format(attempt=self._attempt)
                )
            else:
                self.status.setText(self.tr("Connecting to the support centre…"))
        elif self._state == "reconnecting":
            self.status.setText(
                self.tr("The connection was interrupted. Reconnecting… Your number stays the same.")
            )
        else:
            self.status.setText(self.tr("Waiting for the operator to enter the number…"))

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Your number"))
        self.heading.setText(self.tr("Your number"))
        self.instruction.setText(self.tr("Please read this number to the operator."))
        self.changed.setText(self.tr("The number has changed. Please read the new number to the operator."))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel and close"))
        self.new_code_button.setText(self.tr("Get a new number"))
        self.new_code_button.setAccessibleName(self.tr("Get a new number"))
        self._refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
