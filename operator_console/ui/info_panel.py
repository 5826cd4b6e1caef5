"""The customer information panel: the agent's :class:`protocol.SysInfoReport` (R19/R20).

Shows every item in the collector's order with a translated label, readable
values (sizes and clock as :mod:`client_core.units` writes them, lists one per
line) and, for an item the agent could not read, its reason. "Copy" puts the same
as plain text on the clipboard, for a ticket or a note. When the customer chose to
share the screen without the PC information, the agent sends a ``declined`` report
and the panel says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client_core.units import format_bytes, format_clock_mhz
from protocol import SysInfoReport

__all__ = ["SysInfoPanel", "format_value", "item_label"]

logger = logging.getLogger(__name__)

# The same names as the customer's summary (agent/ui/sysinfo_items.py): the glossary test checks it.
_LABELS: dict[str, Callable[[], str]] = {
    "os": lambda: QCoreApplication.translate("SysInfo", "Operating system"),
    "os_version": lambda: QCoreApplication.translate("SysInfo", "Version"),
    "os_service_pack": lambda: QCoreApplication.translate("SysInfo", "Service pack"),
    "device_type": lambda: QCoreApplication.translate("SysInfo", "Type of computer"),
    "system_manufacturer": lambda: QCoreApplication.translate("SysInfo", "Manufacturer"),
    "system_model": lambda: QCoreApplication.translate("SysInfo", "Model"),
    "cpu_vendor": lambda: QCoreApplication.translate("SysInfo", "Processor"),
    "cpu_clock_mhz": lambda: QCoreApplication.translate("SysInfo", "Processor speed"),
    "physical_memory_bytes": lambda: QCoreApplication.translate("SysInfo", "Memory"),
    "disk_volume_serial": lambda: QCoreApplication.translate("SysInfo", "Disk serial number"),
    "disk_free_bytes": lambda: QCoreApplication.translate("SysInfo", "Free disk space"),
    "ie_version": lambda: QCoreApplication.translate("SysInfo", "Internet Explorer version"),
    "default_browser": lambda: QCoreApplication.translate("SysInfo", "Web browser"),
    "default_browser_version": lambda: QCoreApplication.translate("SysInfo", "Web browser version"),
    "default_mail_client": lambda: QCoreApplication.translate("SysInfo", "E-mail program"),
    "default_mail_client_version": lambda: QCoreApplication.translate("SysInfo", "E-mail program version"),
    "router_present": lambda: QCoreApplication.translate("SysInfo", "Router"),
    "firewall": lambda: QCoreApplication.translate("SysInfo", "Firewall"),
    "antivirus": lambda: QCoreApplication.translate("SysInfo", "Antivirus"),
    "mac_addresses": lambda: QCoreApplication.translate("SysInfo", "Network adapter addresses (MAC)"),
    "ip_addresses": lambda: QCoreApplication.translate("SysInfo", "IP addresses"),
    "applications": lambda: QCoreApplication.translate("SysInfo", "Installed programs"),
}


def item_label(key: str) -> str:
    make = _LABELS.get(key)
    return make() if make is not None else key.replace("_", " ")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return (
            QCoreApplication.translate("SysInfo", "Yes")
            if value
            else QCoreApplication.translate("SysInfo", "No")
        )
    if isinstance(value, dict):
        # {"interface": "eth0", "mac": "..."} / {"name": "...", "version": "..."}: values in order.
        return "  ".join(_scalar(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value)
    return str(value)


def format_value(key: str, value: Any) -> tuple[str, list[str]]:
    """(summary, detail lines) for one item."""
    if value is None:
        return "", []
    if key.endswith("_bytes") and isinstance(value, int | float):
        return format_bytes(value), []  # the units both programs use (docs/glossary.md)
    if key.endswith("_mhz") and isinstance(value, int | float):
        return format_clock_mhz(value), []
    if key == "firewall" and isinstance(value, dict):
        state = (
            QCoreApplication.translate("SysInfo", "On")
            if value.get("enabled")
            else QCoreApplication.translate("SysInfo", "Off")
        )
        provider = value.get("provider")
        return (f"{state} ({provider})" if provider else state), []
    if isinstance(value, dict) and isinstance(value.get("items"), list):
        lines = [_scalar(v) for v in value["items"]]
        total = value.get("total", len(lines))
        return QCoreApplication.translate("SysInfo", "{n} items").format(n=total), lines
    if isinstance(value, list):
        lines = [_scalar(v) for v in value]
        if len(lines) == 1:
            return lines[0], []
        return QCoreApplication.translate("SysInfo", "{n} items").format(n=len(lines)), lines
    return _scalar(value), []


class SysInfoPanel(QWidget):
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sysInfoPanel")
        self._report: SysInfoReport | None = None
        self.tree = QTreeWidget()
        self.tree.setObjectName("sysInfoTree")
        self.tree.setColumnCount(2)
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        # The names take what they need but never more than half: the values must stay
        # readable in a side panel (long names elide; the whole name is in the copy and tooltip).
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.viewport().installEventFilter(self)
        self.placeholder = QLabel()
        self.placeholder.setWordWrap(True)
        self.scope_label = QLabel()
        self.scope_label.setWordWrap(True)  # long in Japanese: wrap rather than cut off
        self.copy_button = QPushButton()
        self.copy_button.setObjectName("copySysInfo")
        self.copy_button.clicked.connect(self.copy)
        row = QHBoxLayout()
        row.addWidget(self.scope_label, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.tree, 1)
        self.retranslate()

    def set_report(self, report: SysInfoReport | None) -> None:
        self._report = report
        self._fill()

    @property
    def report(self) -> SysInfoReport | None:
        return self._report

    def _fill(self) -> None:
        self.tree.clear()
        report = self._report
        self.placeholder.setText(self.tr("The customer's system information appears here once it arrives."))
        self.placeholder.setVisible(report is None)
        self.tree.setVisible(report is not None)
        self.copy_button.setEnabled(report is not None)
        if report is None:
            self.scope_label.clear()
            return
        if report.declined:
            # The customer unticked "also send information about this computer" on the Allow page.
            self.scope_label.clear()
            self.placeholder.setText(self.tr("The customer chose not to share PC information."))
            self.placeholder.setVisible(True)
            self.tree.setVisible(False)
            self.copy_button.setEnabled(False)
            return
        if report.scope == "detailed":
            self.scope_label.setText(self.tr("Detailed mode (installed agent)"))
        else:
            self.scope_label.setText(self.tr("Normal mode (browser): OS and browser only"))
        keys = list(report.data) + [k for k in report.unavailable if k not in report.data]
        for key in keys:
            item = QTreeWidgetItem([item_label(key), ""])
            value = report.data.get(key)
            if value is None:
                reason = report.unavailable.get(key, "")
                text = self.tr("unavailable") + (f" ({reason})" if reason else "")
                item.setText(1, text)
                item.setForeground(1, self.palette().placeholderText())
            else:
                summary, lines = format_value(key, value)
                item.setText(1, summary)
                for line in lines:
                    item.addChild(QTreeWidgetItem(["", line]))
            item.setToolTip(0, item.text(0))
            item.setToolTip(1, item.text(1))
            self.tree.addTopLevelItem(item)
        self._fit_columns()

    def _fit_columns(self) -> None:
        wanted = self.tree.sizeHintForColumn(0) + self.tree.indentation()
        self.tree.setColumnWidth(0, max(60, min(wanted, self.tree.viewport().width() // 2)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def as_text(self) -> str:
        """The report as plain text, one item a line, list entries indented."""
        lines: list[str] = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is None:
                continue
            lines.append(f"{item.text(0)}: {item.text(1)}")
            for j in range(item.childCount()):
                child = item.child(j)
                if child is not None:
                    lines.append(f"    {child.text(1)}")
        return "\n".join(lines) + ("\n" if lines else "")

    def copy(self) -> None:
        text = self.as_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text)

    def retranslate(self) -> None:
        self.tree.setHeaderLabels([self.tr("Item"), self.tr("Value")])
        self.copy_button.setText(self.tr("Copy as text"))
        self._fill()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
