"""Third screen: an operator asks to see the screen; the customer allows or declines.

The operator's name and organisation are the ones the relay verified at login,
shown large so the customer can compare them with the person on the phone. A
countdown declines by itself when nobody answers (60 s by default, the relay's
``allow_timeout_s``): an unattended computer never starts sharing.

Nothing is captured while this page is shown: the agent core creates the screen
track only after Allow (see tests/ui/test_agent_flow.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from agent.ui.widgets import button, button_row, label, notice, page_layout
from protocol import OperatorIdentity

__all__ = ["RequestPage"]

logger = logging.getLogger(__name__)


class RequestPage(QWidget):
    decided = Signal(bool)
    """True for Allow, False for Deny or when the countdown ran out."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("requestPage")
        self._clock = clock
        self._operator: OperatorIdentity | None = None
        self._deadline = 0.0
        self._answered = True
        self._allowed = False
        self.heading = label("requestHeading", "heading")
        self.who = label("requestOperator")
        self.who.setStyleSheet("font-size: 28px; font-weight: bold;")
        self.check = label("requestCheck")
        self.explain = notice("requestExplain")
        self.countdown = label("requestCountdown", "muted")
        self.deny_button = button("requestDeny")
        self.allow_button = button("requestAllow", "primary")
        self.allow_button.setDefault(True)

        layout = page_layout(self)
        layout.addWidget(self.heading)
        layout.addStretch(1)
        layout.addWidget(self.who)
        layout.addWidget(self.check)
        layout.addWidget(self.explain)
        layout.addStretch(1)
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.countdown)
        layout.addLayout(button_row(self.deny_button, self.allow_button))

        self.allow_button.clicked.connect(lambda: self._answer(True))
        self.deny_button.clicked.connect(lambda: self._answer(False))
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self.retranslate()

    @property
    def operator(self) -> OperatorIdentity | None:
        return self._operator

    def ask(self, operator: OperatorIdentity, timeout_s: float) -> None:
        self._operator = operator
        self._deadline = self._clock() + timeout_s
        self._answered = False
        self._allowed = False
        self.allow_button.setEnabled(True)
        self.deny_button.setEnabled(True)
        self._timer.start()
        self.retranslate()
        self.allow_button.setFocus()

    def remaining_s(self) -> float:
        return max(0.0, self._deadline - self._clock())

    def _answer(self, allowed: bool) -> None:
        if self._answered:
            return
        self._answered = True
        self._allowed = allowed
        self._timer.stop()
        self.allow_button.setEnabled(False)
        self.deny_button.setEnabled(False)
        self._update_countdown()
        logger.info("customer %s the request", "allowed" if allowed else "denied")
        self.decided.emit(allowed)

    def _tick(self) -> None:
        if self.remaining_s() <= 0:
            logger.info("no answer in time: declining")
            self._answer(False)
            return
        self._update_countdown()

    def _update_countdown(self) -> None:
        if self._answered:
            self.countdown.setText(self.tr("Starting screen sharing…") if self._allowed else "")
            return
        seconds = int(self.remaining_s() + 0.999)
        self.countdown.setText(
            self.tr("If you do not answer, the request is declined in {seconds} s.").format(seconds=seconds)
        )

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("An operator asks to see your screen"))
        self.heading.setText(self.tr("May the operator see your screen?"))
        if self._operator is not None:
            self.who.setText(
                self.tr("{name} of {organisation} would like to see your screen.").format(
                    name=self._operator.display_name, organisation=self._operator.organisation
                )
            )
        self.who.setAccessibleName(self.who.text())
        self.check.setText(self.tr("Please check that this is the person you are speaking to on the phone."))
        self.explain.setText(
            self.tr(
                "The operator can only see your screen and point at things. The operator cannot "
                "operate your computer. You can stop sharing at any time."
            )
        )
        self.deny_button.setText(self.tr("Do not allow"))
        self.deny_button.setAccessibleName(self.tr("Do not allow the operator to see your screen"))
        self.allow_button.setText(self.tr("Allow"))
        self.allow_button.setAccessibleName(self.tr("Allow the operator to see your screen"))
        self._update_countdown()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
