"""Last screen: what was shared, with whom, for how long; change any password typed (R18).

When sharing never started (declined, not answered, cancelled) the page says
plainly that nothing was shared. The "system information sent" section lists
what the collector (agent/sysinfo) sent to the operator, item by item; it
appears only when :class:`SessionSummary` carries a report or (name, value) pairs.

Closing this page quits the agent (the controller then runs the exit hooks,
where self-removal will plug in).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFormLayout, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from agent.ui.sysinfo_items import report_items
from agent.ui.widgets import SPACING, button, button_row, label, notice, page_layout
from protocol import EndReason, MonitorInfo, OperatorIdentity, SysInfoReport

__all__ = ["SessionSummary", "SummaryPage"]


@dataclasses.dataclass(frozen=True)
class SessionSummary:
    shared: bool
    """True if the operator saw the screen at all."""
    operator: OperatorIdentity | None
    shared_seconds: float
    reason: EndReason
    by: str
    """"agent", "operator" or "relay"."""
    areas: tuple[MonitorInfo, ...] = ()
    """Every area shown during the session, in order (the customer may switch monitors)."""
    monitor_count: int = 1
    timed_out: bool = False
    """The customer did not answer the operator's request in time."""
    system_information: SysInfoReport | tuple[tuple[str, str], ...] | None = None
    """What went to the operator: the report itself or (item, value) pairs; None: nothing sent."""


class SummaryPage(QWidget):
    close_requested = Signal()
    again_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryPage")
        self._summary: SessionSummary | None = None
        self._detail_rows: list[tuple[str, str]] = []
        self._sysinfo_rows: list[tuple[str, str]] = []
        self.heading = label("summaryHeading", "heading")
        self.body = label("summaryBody")
        self.details = QFormLayout()
        self.details.setHorizontalSpacing(20)
        self.details.setVerticalSpacing(8)
        self.details.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.password = notice("passwordReminder")
        self.sysinfo_title = label("sysinfoTitle")
        self.sysinfo_title.setStyleSheet("font-weight: bold;")
        self.sysinfo_box = QFrame()
        self.sysinfo_box.setObjectName("sysinfoList")
        self.sysinfo_box.setStyleSheet(
            "QFrame#sysinfoList { background: white; border: 1px solid #C9CFD6; border-radius: 8px; }"
            " QFrame#sysinfoList QLabel { font-size: 16px; border: none; }"
            ' QLabel[role="sysinfoKey"] { color: #4A5866; }'
        )
        self.sysinfo_list = QFormLayout(self.sysinfo_box)
        self.sysinfo_list.setContentsMargins(12, 8, 12, 8)
        self.sysinfo_list.setHorizontalSpacing(18)
        self.sysinfo_list.setVerticalSpacing(4)
        self.hint = label("summaryHint", "muted")
        self.again_button = button("summaryAgain")
        self.close_button = button("summaryClose", "primary")
        self.close_button.setDefault(True)

        # Everything but the buttons scrolls: the most important lines come first
        # (who, how long, the password reminder), the system information last, and
        # nothing is ever squeezed on a small screen (800x600, R21).
        content = QWidget()
        content.setObjectName("summaryContent")
        content.setProperty("page", True)
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(SPACING)
        column.addWidget(self.heading)
        column.addWidget(self.body)
        column.addWidget(self.hint)
        self.details_box = QWidget()
        self.details_box.setObjectName("summaryDetails")
        self.details_box.setLayout(self.details)
        self.details.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.details_box)
        column.addWidget(self.password)
        column.addWidget(self.sysinfo_title)
        column.addWidget(self.sysinfo_box)
        column.addStretch(1)
        self.content_scroll = QScrollArea()
        self.content_scroll.setObjectName("summaryScroll")
        self.content_scroll.setWidget(content)
        self.content_scroll.setWidgetResizable(True)
        self.content_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.content_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        layout = page_layout(self)
        layout.addWidget(self.content_scroll, 1)
        layout.addLayout(button_row(self.again_button, self.close_button))
        self.close_button.clicked.connect(self.close_requested)
        self.again_button.clicked.connect(self.again_requested)
        self.retranslate()

    @property
    def summary(self) -> SessionSummary | None:
        return self._summary

    def show_summary(self, summary: SessionSummary) -> None:
        self._summary = summary
        self.retranslate()
        self.close_button.setFocus()

    # --- texts -----------------------------------------------------------------------

    def _duration(self, seconds: float) -> str:
        minutes, secs = divmod(max(0, round(seconds)), 60)
        if minutes == 0:
            return self.tr("{seconds} s").format(seconds=secs)
        return self.tr("{minutes} min {seconds} s").format(minutes=minutes, seconds=secs)

    def _area(self, area: MonitorInfo, count: int) -> str:
        size = f"{area.width} × {area.height}"
        if area.index >= count > 1:
            return self.tr("All screens ({size})").format(size=size)
        if count > 1:
            return self.tr("Screen {number} ({size})").format(number=area.index + 1, size=size)
        return self.tr("Your screen ({size})").format(size=size)

    def _how_it_ended(self, s: SessionSummary) -> str:
        if s.by == "agent":
            return self.tr("You stopped sharing.")
        if s.by == "operator" and s.reason is EndReason.PEER_GONE:
            return self.tr("The connection to the operator was lost.")
        if s.by == "operator":
            return self.tr("The operator ended the session.")
        if s.reason is EndReason.ADMIN:
            return self.tr("The support centre ended the session.")
        if s.reason is EndReason.SHUTDOWN:
            return self.tr("The support centre closed the connection.")
        if s.reason is EndReason.IDLE_TIMEOUT:
            return self.tr("The session ended after a long time without activity.")
        if s.reason is EndReason.CONNECTION_LOST:
            return self.tr("The connection was lost for too long, so sharing stopped.")
        return self.tr("The connection was lost.")

    def _why_not_shared(self, s: SessionSummary) -> str:
        if s.timed_out or s.reason is EndReason.ALLOW_TIMEOUT:
            return self.tr("The request was not answered in time, so it was declined.")
        if s.reason is EndReason.DENIED and s.by == "agent":
            return self.tr("You declined the request.")
        if s.by == "agent":
            return self.tr("You cancelled before sharing started.")
        if s.by == "operator":
            return self.tr("The operator withdrew the request.")
        return self.tr("The connection to the support centre was lost.")

    def detail_rows(self) -> list[tuple[str, str]]:
        """(name, value) of the rows shown: who, what, how long, how it ended."""
        return list(self._detail_rows)

    def sysinfo_rows(self) -> list[tuple[str, str]]:
        """(item, value) of the system information listed; empty when none was sent."""
        return list(self._sysinfo_rows)

    def _set_details(self, rows: Sequence[tuple[str, str]]) -> None:
        self._detail_rows = list(rows)
        while self.details.rowCount():
            self.details.removeRow(0)
        for name, value in rows:
            key = QLabel(name)
            key.setObjectName("summaryKey")
            key.setStyleSheet("color: #4A5866;")
            text = QLabel(value)
            text.setObjectName("summaryValue")
            text.setTextFormat(Qt.TextFormat.PlainText)
            text.setAccessibleName(f"{name} {value}")
            self.details.addRow(key, text)
        # Never squeezed by the system information list below: these rows matter most.
        self.details_box.setVisible(bool(rows))

    def _set_sysinfo(self, info: SysInfoReport | tuple[tuple[str, str], ...] | None) -> None:
        while self.sysinfo_list.rowCount():
            self.sysinfo_list.removeRow(0)
        # Formatted here, not earlier, so a language switch re-labels the items too.
        items = report_items(info) if isinstance(info, SysInfoReport) else info
        self._sysinfo_rows = list(items or ())
        visible = bool(items)
        self.sysinfo_title.setVisible(visible)
        self.sysinfo_box.setVisible(visible)
        for name, value in items or ():
            key = QLabel(name)
            key.setProperty("role", "sysinfoKey")
            key.setTextFormat(Qt.TextFormat.PlainText)
            val = QLabel(value)
            val.setTextFormat(Qt.TextFormat.PlainText)
            val.setWordWrap(True)
            self.sysinfo_list.addRow(key, val)

    def retranslate(self) -> None:
        s = self._summary
        self.sysinfo_title.setText(self.tr("System information sent to the operator"))
        self.password.setText(
            self.tr("If you typed a password while your screen was shared, please change it now, to be safe.")
        )
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close the program"))
        self.again_button.setText(self.tr("Start again"))
        self.again_button.setAccessibleName(self.tr("Start again with a new number"))
        if s is None:
            self.heading.setText("")
            self.body.setText("")
            self._set_details([])
            self.password.hide()
            self.hint.hide()
            self._set_sysinfo(None)
            self.again_button.hide()
            return
        if s.shared:
            self.heading.setText(self.tr("Screen sharing has ended"))
            self.body.setText(self.tr("The operator can no longer see your screen."))
            rows = []
            if s.operator is not None:
                rows.append(
                    (
                        self.tr("Shared with"),
                        self.tr("{name} ({organisation})").format(
                            name=s.operator.display_name, organisation=s.operator.organisation
                        ),
                    )
                )
            if s.areas:
                rows.append(
                    (self.tr("What was shared"), "\n".join(self._area(a, s.monitor_count) for a in s.areas))
                )
            rows.append((self.tr("Time shared"), self._duration(s.shared_seconds)))
            rows.append((self.tr("How it ended"), self._how_it_ended(s)))
            self._set_details(rows)
            self.password.show()
            # Ended by the operator, the network or the relay, not by the customer:
            # offer to start again (a self-removing agent would otherwise be gone).
            chosen = s.by == "agent"
            self.hint.setText(
                self.tr("You can close this window now. If the operator asks you to, press “Start again”.")
            )
            self.hint.setVisible(not chosen)
            self.again_button.setVisible(not chosen)
        else:
            self.heading.setText(self.tr("Your screen was not shared"))
            self.body.setText(self._why_not_shared(s))
            self.hint.setText(
                self.tr("You can close this window now. If the operator asks you to, press “Start again”.")
            )
            self.hint.show()
            self._set_details([])
            self.password.hide()
            self.again_button.show()
        self._set_sysinfo(s.system_information if s.shared else None)
        self.setAccessibleName(self.heading.text())
        self.body.setAccessibleName(self.body.text())
        self.password.setAccessibleName(self.password.text())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
