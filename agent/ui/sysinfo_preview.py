"""What the PC information would contain, with this computer's actual values (R19/R20).

Opened from the Allow page by 「送られる内容を見る」. The values are read on this
computer by the bridge (nothing is sent to show them) and listed the way the
summary lists what was sent, so the customer sees the same words before and after.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent.ui.sysinfo_items import report_items
from agent.ui.widgets import button, button_row, label
from protocol import SysInfoReport

__all__ = ["SystemInfoPreview"]


class SystemInfoPreview(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sysInfoPreview")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._state = "idle"
        self.heading = label("sysInfoPreviewHeading", "heading")
        self.status = label("sysInfoPreviewStatus", "muted")
        self.table = QTreeWidget()
        self.table.setObjectName("sysInfoPreviewTable")
        self.table.setColumnCount(2)
        self.table.setRootIsDecorated(False)
        self.table.setWordWrap(True)
        self.table.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.header().setStretchLastSection(True)
        self.close_button = button("sysInfoPreviewClose", "primary")
        self.close_button.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(self.heading)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(button_row(self.close_button))
        self.retranslate()

    @property
    def state(self) -> str:
        """idle, loading, ready or failed."""
        return self._state

    def open_loading(self) -> None:
        self._state = "loading"
        self.table.clear()
        self.retranslate()
        parent = self.parentWidget()
        if parent is not None:
            top = parent.window()
            self.resize(max(480, top.width() - 60), max(360, top.height() - 80))
        self.open()
        self.close_button.setFocus()

    def set_report(self, report: SysInfoReport | None) -> None:
        self.table.clear()
        if report is None:
            self._state = "failed"
        else:
            self._state = "ready"
            for name, value in report_items(report):
                item = QTreeWidgetItem([name, value])
                item.setToolTip(1, value)
                self.table.addTopLevelItem(item)
        self.retranslate()

    def rows(self) -> list[tuple[str, str]]:
        out = []
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None:
                out.append((item.text(0), item.text(1)))
        return out

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Information about this computer"))
        self.heading.setText(self.tr("This is what the operator would receive"))
        self.table.setHeaderLabels([self.tr("Item"), self.tr("Value")])
        self.status.setText(
            {
                "loading": self.tr("Reading the information on this computer…"),
                "failed": self.tr("The information could not be read. Nothing has been sent."),
            }.get(
                self._state,
                self.tr("Nothing has been sent yet. It is sent only if you allow, with the box ticked."),
            )
        )
        self.close_button.setText(self.tr("Close"))
        self.close_button.setAccessibleName(self.windowTitle() + " - " + self.close_button.text())
        self.setAccessibleName(self.windowTitle())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
