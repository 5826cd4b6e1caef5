"""The system information that was sent, in words a customer understands (summary page, R17/R19).

:class:`protocol.SysInfoReport` carries stable wire keys ("physical_memory_bytes")
and raw readings; the summary shows each item under a translated name with a
readable value ("8.0 GB"). Installed applications are shown as a count: the
point is to tell the customer *what kind* of information left the computer,
not to print an inventory.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from client_core.units import format_bytes, format_clock_mhz
from protocol import SysInfoReport

__all__ = ["item_label", "item_value", "report_items"]

_LABELS: dict[str, object] = {
    "os": QT_TRANSLATE_NOOP("SystemInformation", "Operating system"),
    "os_version": QT_TRANSLATE_NOOP("SystemInformation", "Version"),
    "os_service_pack": QT_TRANSLATE_NOOP("SystemInformation", "Service pack"),
    "device_type": QT_TRANSLATE_NOOP("SystemInformation", "Type of computer"),
    "system_manufacturer": QT_TRANSLATE_NOOP("SystemInformation", "Manufacturer"),
    "system_model": QT_TRANSLATE_NOOP("SystemInformation", "Model"),
    "cpu_vendor": QT_TRANSLATE_NOOP("SystemInformation", "Processor"),
    "cpu_clock_mhz": QT_TRANSLATE_NOOP("SystemInformation", "Processor speed"),
    "physical_memory_bytes": QT_TRANSLATE_NOOP("SystemInformation", "Memory"),
    "disk_volume_serial": QT_TRANSLATE_NOOP("SystemInformation", "Disk serial number"),
    "disk_free_bytes": QT_TRANSLATE_NOOP("SystemInformation", "Free disk space"),
    "ie_version": QT_TRANSLATE_NOOP("SystemInformation", "Internet Explorer version"),
    "default_browser": QT_TRANSLATE_NOOP("SystemInformation", "Web browser"),
    "default_browser_version": QT_TRANSLATE_NOOP("SystemInformation", "Web browser version"),
    "default_mail_client": QT_TRANSLATE_NOOP("SystemInformation", "E-mail program"),
    "default_mail_client_version": QT_TRANSLATE_NOOP("SystemInformation", "E-mail program version"),
    "router_present": QT_TRANSLATE_NOOP("SystemInformation", "Router"),
    "firewall": QT_TRANSLATE_NOOP("SystemInformation", "Firewall"),
    "antivirus": QT_TRANSLATE_NOOP("SystemInformation", "Antivirus"),
    "mac_addresses": QT_TRANSLATE_NOOP("SystemInformation", "Network adapter addresses (MAC)"),
    "ip_addresses": QT_TRANSLATE_NOOP("SystemInformation", "IP addresses"),
    "applications": QT_TRANSLATE_NOOP("SystemInformation", "Installed programs"),
}
"""Names of the R19 items, marked for translation (looked up at display time)."""


def item_label(key: str) -> str:
    label = _LABELS.get(key)
    return key if label is None else QCoreApplication.translate("SystemInformation", str(label))


def item_value(key: str, value: Any) -> str:
    """A reading as text; shapes as documented in docs/sysinfo.md."""
    if value is None:
        return QCoreApplication.translate("SystemInformation", "not available")
    if isinstance(value, bool):
        return (
            QCoreApplication.translate("SystemInformation", "yes")
            if value
            else QCoreApplication.translate("SystemInformation", "no")
        )
    if key.endswith("_bytes") and isinstance(value, int | float):
        return format_bytes(value)  # the units both programs use (docs/glossary.md)
    if key == "cpu_clock_mhz" and isinstance(value, int | float):
        return format_clock_mhz(value)
    if key == "applications" and isinstance(value, dict):
        return QCoreApplication.translate("SystemInformation", "{count} programs").format(
            count=value.get("total", len(value.get("items", ())))
        )
    if key == "firewall" and isinstance(value, dict):
        state = (
            QCoreApplication.translate("SystemInformation", "on")
            if value.get("enabled")
            else QCoreApplication.translate("SystemInformation", "off")
        )
        provider = value.get("provider")
        return f"{state} ({provider})" if provider else state
    if key == "antivirus" and isinstance(value, list):
        return ", ".join(
            str(p.get("name", "?")) for p in value if isinstance(p, dict)
        ) or QCoreApplication.translate("SystemInformation", "none found")
    if isinstance(value, list):
        parts = [_entry(v) for v in value[:6]]
        return ", ".join(parts) + (" …" if len(value) > 6 else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in list(value.items())[:6])
    return str(value)


def _entry(value: Any) -> str:
    """One element of an address list: ``{"interface", "mac"|"address"}`` -> "eth0 02:fc:..."."""
    if isinstance(value, dict):
        address = value.get("mac") or value.get("address") or ""
        interface = value.get("interface")
        return f"{interface} {address}" if interface else str(address)
    return str(value)


def report_items(report: SysInfoReport) -> list[tuple[str, str]]:
    """(label, value) for every item of the report, in the report's order."""
    return [(item_label(key), item_value(key, value)) for key, value in report.data.items()]
