"""Third screen: an operator asks to see the screen; the customer allows or declines.

The operator's name and organisation are the ones the relay verified at login,
shown large so the customer can compare them with the person on the phone. A
countdown declines by itself when nobody answers (60 s by default, the relay's
``allow_timeout_s``): an unattended computer never starts sharing.

Nothing is captured while this page is shown: the agent core creates the screen
track only after Allow (see tests/ui/test_agent_flow.py).

The PC information (R19/R20) is part of the same decision: the page says which
items would go to the operator, shows the actual values on request (read on this
computer only, nothing is sent to look at them), and a check box lets the customer
share the screen without them. It starts ticked - the operator usually needs them
to help - but is in plain sight next to Allow, and the operator is told either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QScrollArea, QWidget

from agent.ui.sysinfo_items import item_label
from agent.ui.sysinfo_preview import SystemInfoPreview
from agent.ui.theme import HEADING_PX, SMALL_PX
from agent.ui.widgets import button, button_row, compact_page, label, notice, page_layout, short_screen
from protocol import OperatorIdentity, Scope, SysInfoReport

__all__ = ["RequestPage"]

logger = logging.getLogger(__name__)


class RequestPage(QWidget):
    decided = Signal(bool)
    """True for Allow, False for Deny or when the countdown ran out; read
    :attr:`send_system_info` for the PC-information choice."""
    preview_requested = Signal()
    """The customer wants to see the PC information's values: call :meth:`show_preview`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("requestPage")
        self._clock = clock
        self._operator: OperatorIdentity | None = None
        self._deadline = 0.0
        self._answered = True
        self._allowed = False
        self._scope: Scope | None = "detailed"
        self.heading = label("requestHeading", "heading")
        self.who = label("requestOperator")
        self.who.setStyleSheet("font-size: 28px; font-weight: bold;")
        self.check = label("requestCheck")
        self.explain = notice("requestExplain")
        self.countdown = label("requestCountdown", "muted")
        self.connection_problem = notice("requestConnectionProblem")
        self.connection_problem.hide()
        self.deny_button = button("requestDeny")
        self.allow_button = button("requestAllow", "primary")
        self.allow_button.setDefault(True)
        self.sysinfo_check = QCheckBox()
        self.sysinfo_check.setObjectName("requestSysInfo")
        self.sysinfo_check.setChecked(True)
        self.sysinfo_items = label("requestSysInfoItems", "muted")
        # The 22 names of the detailed scope take 4-7 lines: on a short screen they scroll
        # instead of being squeezed into a clipped strip.
        self.sysinfo_scroll = QScrollArea()
        self.sysinfo_scroll.setObjectName("requestSysInfoScroll")
        self.sysinfo_scroll.setWidgetResizable(True)
        self.sysinfo_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.sysinfo_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sysinfo_scroll.setStyleSheet(
            "QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        self.sysinfo_scroll.setWidget(self.sysinfo_items)
        self.sysinfo_items.ensurePolished()  # the "muted" role's font, for whole lines below
        line = self.sysinfo_items.fontMetrics().lineSpacing()
        self.sysinfo_scroll.setMinimumHeight(3 * line + 2)
        self.sysinfo_show = button("requestSysInfoShow", "quiet")
        self.preview = SystemInfoPreview(self)

        layout = page_layout(self)
        layout.addWidget(self.heading)
        layout.addStretch(1)
        layout.addWidget(self.who)
        layout.addWidget(self.check)
        layout.addWidget(self.explain)
        layout.addWidget(self.sysinfo_check)
        details = QHBoxLayout()
        details.setContentsMargins(38, 0, 0, 0)
        details.addWidget(self.sysinfo_scroll, 1)
        details.addWidget(self.sysinfo_show, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(details)
        layout.addStretch(1)
        layout.addWidget(self.connection_problem)
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.countdown)
        layout.addLayout(button_row(self.deny_button, self.allow_button))

        self.allow_button.clicked.connect(lambda: self._answer(True))
        self.deny_button.clicked.connect(lambda: self._answer(False))
        self.sysinfo_show.clicked.connect(self._open_preview)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        # The densest page: tight spacing always (with the two-line operator sentence in
        # English the promise box was squeezed in the 660 px window), smaller type too on an
        # 800x600 screen.
        compact_page(layout)
        self._compact = short_screen()
        if self._compact:
            self.heading.setStyleSheet(f"font-size: {HEADING_PX - 6}px;")
            self.who.setStyleSheet("font-size: 22px; font-weight: bold;")
            self.check.setStyleSheet(f"font-size: {SMALL_PX}px;")
            self.sysinfo_scroll.setMinimumHeight(2 * line + 2)
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
        self.sysinfo_check.setEnabled(True)
        self.sysinfo_check.setChecked(True)
        self.connection_problem.hide()
        self._timer.start()
        self.retranslate()
        self.allow_button.setFocus()

    @property
    def send_system_info(self) -> bool:
        """The customer's choice: the PC information goes to the operator with the picture."""
        return self._scope is not None and self.sysinfo_check.isChecked()

    def set_system_info_scope(self, scope: Scope | None) -> None:
        """What would be sent; ``None`` when this agent never sends PC information."""
        self._scope = scope
        for widget in (self.sysinfo_check, self.sysinfo_scroll, self.sysinfo_show):
            widget.setVisible(scope is not None)
        self.retranslate()

    def show_preview(self, report: SysInfoReport | None) -> None:
        """The values read on this computer (``None``: they could not be read)."""
        self.preview.set_report(report)

    def show_connection_problem(self) -> None:
        """The service's TURN server cannot be used (client_core.effects.TurnTrouble): say so."""
        self.connection_problem.show()

    def _open_preview(self) -> None:
        self.preview.open_loading()
        self.preview_requested.emit()

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
        self.sysinfo_check.setEnabled(False)
        self.preview.close()
        self._update_countdown()
        logger.info(
            "customer %s the request%s",
            "allowed" if allowed else "denied",
            "" if not allowed or self.send_system_info else " without the PC information",
        )
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
        self.sysinfo_check.setText(self.tr("Also send information about this computer"))
        self.sysinfo_check.setAccessibleName(self.sysinfo_check.text())
        if self._scope is not None:
            keys = _keys(self._scope)
            names = self.tr(", ").join(item_label(k) for k in keys)
            self.sysinfo_items.setText(
                self.tr("{count} items: {names}. Untick to share only the screen.").format(
                    count=len(keys), names=names
                )
            )
        self.connection_problem.setText(
            self.tr(
                "The service's connection server could not be used (a setting on the service's side, "
                "not on your computer), so your screen may not reach the operator. Please tell the "
                "operator on the phone."
            )
        )
        self.sysinfo_show.setText(self.tr("Show the values"))
        self.sysinfo_show.setAccessibleName(self.tr("Show the information that would be sent"))
        self.deny_button.setText(self.tr("Do not allow"))
        self.deny_button.setAccessibleName(self.tr("Do not allow the operator to see your screen"))
        self.allow_button.setText(self.tr("Allow"))
        self.allow_button.setAccessibleName(self.tr("Allow the operator to see your screen"))
        self._update_countdown()

    @property
    def compact(self) -> bool:
        return self._compact

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def _keys(scope: Scope) -> tuple[str, ...]:
    from agent.sysinfo.base import KEYS, NORMAL_KEYS

    return NORMAL_KEYS if scope == "normal" else KEYS
