"""Human-readable labels and values for system information (CLI table, and the
operator console's information panel if it wants the same wording).

Pure functions of the report's ``data``/``unavailable`` maps: they work on what
arrives over the wire as well as on a local collection.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Final

from .base import JsonValue

__all__ = ["LABELS", "label", "format_value", "rows", "render_table"]

LABELS: Final[dict[str, tuple[str, str]]] = {
    # key -> (English, Japanese), the wording of R19/R20 in the seeds.
    "os": ("OS", "OS"),
    "os_version": ("OS version", "OSバージョン"),
    "os_service_pack": ("OS service pack", "OSサービスパック"),
    "device_type": ("Device type", "デバイスタイプ"),
    "system_manufacturer": ("System manufacturer", "システム製造元"),
    "system_model": ("System model", "システムモデル"),
    "cpu_vendor": ("CPU vendor", "CPUベンダー"),
    "cpu_clock_mhz": ("CPU clock", "CPUクロック"),
    "physical_memory_bytes": ("Physical memory", "物理メモリ"),
    "disk_volume_serial": ("Disk volume serial", "ディスクボリュームシリアル番号"),
    "disk_free_bytes": ("Disk free space", "ディスク空き容量"),
    "ie_version": ("IE version", "IEバージョン"),
    "default_browser": ("Default browser", "既定のブラウザ"),
    "default_browser_version": ("Browser version", "ブラウザのバージョン"),
    "default_mail_client": ("Default mail client", "既定のメールソフト"),
    "default_mail_client_version": ("Mail client version", "メールソフトのバージョン"),
    "router_present": ("Router present", "ルーターの有無"),
    "firewall": ("Firewall", "ファイアウォール"),
    "antivirus": ("Antivirus", "ウイルス対策ソフト"),
    "mac_addresses": ("MAC addresses", "MACアドレス"),
    "ip_addresses": ("IP addresses", "IPアドレス"),
    "applications": ("Installed applications", "インストール済みアプリケーション"),
}


def label(key: str, lang: str = "en") -> str:
    english, japanese = LABELS.get(key, (key, key))
    return japanese if lang == "ja" else english


def _size(value: int) -> str:
    amount = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{value:,} bytes" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def _on_off(value: JsonValue) -> str:
    return "on" if value is True else "off" if value is False else "?"


def format_value(key: str, value: JsonValue) -> list[str]:
    """One or more display lines for an item's (non-null) value."""
    if isinstance(value, bool) and key == "router_present":
        return ["yes" if value else "no"]
    if isinstance(value, int) and not isinstance(value, bool):
        if key.endswith("_bytes"):
            return [_size(value)]
        if key == "cpu_clock_mhz":
            return [f"{value:,} MHz"]
    if key == "firewall" and isinstance(value, dict):
        line = f"{_on_off(value.get('enabled'))} ({value.get('provider', '?')})"
        profiles = value.get("profiles")
        if isinstance(profiles, dict) and profiles:
            line += ": " + ", ".join(f"{name} {_on_off(state)}" for name, state in profiles.items())
        return [line]
    if key == "antivirus" and isinstance(value, list):
        lines = []
        for product in value:
            if isinstance(product, dict):
                details = [str(product["state"])] if product.get("state") else []
                if product.get("up_to_date") is not None:
                    details.append("up to date" if product["up_to_date"] else "out of date")
                suffix = f" ({', '.join(details)})" if details else ""
                lines.append(f"{product.get('name', '?')}{suffix}")
        return lines or ["none registered"]
    if key in ("mac_addresses", "ip_addresses") and isinstance(value, list):
        field = "mac" if key == "mac_addresses" else "address"
        lines = [
            f"{entry.get(field, '?')}  ({entry.get('interface', '?')})"
            for entry in value
            if isinstance(entry, dict)
        ]
        return lines or ["none"]
    if key == "applications" and isinstance(value, dict):
        items = value.get("items")
        entries = items if isinstance(items, list) else []
        lines = [f"{value.get('total', len(entries))} installed"]
        if value.get("omitted"):
            lines[0] += f", {value['omitted']} not listed (size limit)"
        for app in entries:
            if isinstance(app, dict):
                version = f" {app['version']}" if app.get("version") else ""
                lines.append(f"{app.get('name', '?')}{version}")
        return lines
    return [str(value)]


def rows(
    data: Mapping[str, JsonValue], unavailable: Mapping[str, str], lang: str = "en"
) -> list[tuple[str, str]]:
    """(label, text) rows in display order; continuation lines have an empty label."""
    out: list[tuple[str, str]] = []
    for key in data:
        value = data[key]
        if value is None:
            lines = [f"- (unavailable: {unavailable.get(key, 'no reason given')})"]
        else:
            lines = format_value(key, value)
        out.append((label(key, lang), lines[0]))
        out.extend(("", line) for line in lines[1:])
    return out


def _width(text: str) -> int:
    # Japanese labels take two terminal columns per character.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(data: Mapping[str, JsonValue], unavailable: Mapping[str, str], lang: str = "en") -> str:
    table = rows(data, unavailable, lang)
    column = max((_width(name) for name, _ in table), default=0)
    return "\n".join(f"{name}{' ' * (column - _width(name))}  {text}".rstrip() for name, text in table)
