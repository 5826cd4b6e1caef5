"""Pure helpers every backend shares: vendor and chassis names, firmware
placeholders, version extraction, and the size cap for the applications list.

Nothing here touches the system, so all of it is tested directly on literals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Final

from .base import JsonValue, Unavailable

__all__ = [
    "APPLICATIONS_MAX_BYTES",
    "APPLICATIONS_MAX_ITEMS",
    "APP_NAME_MAX",
    "APP_VERSION_MAX",
    "INTERFACES_MAX",
    "cpu_vendor_name",
    "chassis_name",
    "firmware_text",
    "extract_version",
    "cap_applications",
    "normalise_mac",
]

APPLICATIONS_MAX_ITEMS: Final = 400
"""At most this many applications are listed; ``total`` still counts them all."""
APPLICATIONS_MAX_BYTES: Final = 36_000
"""Byte budget of the encoded application entries, so that the whole SysInfoReport
stays well under protocol.MAX_MESSAGE_BYTES (64 KiB) with every other item at its
own cap (see docs/sysinfo.md, "Size")."""
APP_NAME_MAX: Final = 100
APP_VERSION_MAX: Final = 40
INTERFACES_MAX: Final = 24
"""Cap on MAC and IP entries: machines with container bridges can have hundreds."""

_CPU_VENDORS: Final[dict[str, str]] = {
    # x86 CPUID vendor strings (Linux /proc/cpuinfo vendor_id, Windows VendorIdentifier).
    "GenuineIntel": "Intel",
    "AuthenticAMD": "AMD",
    "HygonGenuine": "Hygon",
    "CentaurHauls": "VIA",
    "Shanghai": "Zhaoxin",
    # Arm "CPU implementer" codes (Linux /proc/cpuinfo on Arm).
    "0x41": "Arm",
    "0x42": "Broadcom",
    "0x43": "Cavium",
    "0x46": "Fujitsu",
    "0x48": "HiSilicon",
    "0x4e": "NVIDIA",
    "0x51": "Qualcomm",
    "0x53": "Samsung",
    "0x61": "Apple",
    "0x6d": "Microsoft",
    "0xc0": "Ampere",
}


def cpu_vendor_name(raw: str) -> str:
    """A readable vendor for a CPUID vendor string or Arm implementer code.

    Unknown values are returned as read (trimmed), never replaced by a guess.
    """
    if raw in _CPU_VENDORS:
        return _CPU_VENDORS[raw]
    stripped = raw.strip()
    return _CPU_VENDORS.get(stripped, _CPU_VENDORS.get(stripped.lower(), stripped))


# SMBIOS 3.x, table "System Enclosure or Chassis Types" (type 3, offset 05h).
_CHASSIS: Final[dict[int, str]] = {
    1: "Other",
    3: "Desktop",
    4: "Low Profile Desktop",
    5: "Pizza Box",
    6: "Mini Tower",
    7: "Tower",
    8: "Portable",
    9: "Laptop",
    10: "Notebook",
    11: "Hand Held",
    12: "Docking Station",
    13: "All in One",
    14: "Sub Notebook",
    15: "Space-saving",
    16: "Lunch Box",
    17: "Main Server Chassis",
    18: "Expansion Chassis",
    19: "SubChassis",
    20: "Bus Expansion Chassis",
    21: "Peripheral Chassis",
    22: "RAID Chassis",
    23: "Rack Mount Chassis",
    24: "Sealed-case PC",
    25: "Multi-system Chassis",
    26: "Compact PCI",
    27: "Advanced TCA",
    28: "Blade",
    29: "Blade Enclosure",
    30: "Tablet",
    31: "Convertible",
    32: "Detachable",
    33: "IoT Gateway",
    34: "Embedded PC",
    35: "Mini PC",
    36: "Stick PC",
}


def chassis_name(code: int) -> str:
    """SMBIOS chassis type number -> name. Raises Unavailable for 2 ("Unknown") and
    for numbers outside the table, since neither says anything about the device."""
    # Bit 7 is the "chassis lock present" flag, not part of the type.
    code &= 0x7F
    if code == 2:
        raise Unavailable("firmware reports chassis type 'Unknown'")
    try:
        return _CHASSIS[code]
    except KeyError:
        raise Unavailable(f"firmware reports unknown chassis type {code}") from None


_PLACEHOLDERS: Final = frozenset(
    s.casefold()
    for s in (
        "",
        "To Be Filled By O.E.M.",
        "To be filled by O.E.M.",
        "System manufacturer",
        "System Manufacturer",
        "System Product Name",
        "System Version",
        "Default string",
        "Not Applicable",
        "Not Specified",
        "None",
        "O.E.M.",
        "OEM",
        "Type1ProductConfigId",
        "Unknown",
        "xxxxxxxxxxxxxxxx",
        "0123456789",
    )
)


def firmware_text(value: object) -> str:
    """A manufacturer/model string from firmware, or Unavailable if it is a
    placeholder the board vendor never filled in ("To Be Filled By O.E.M.")."""
    if not isinstance(value, str):
        raise Unavailable("firmware value missing")
    text = " ".join(value.split())
    if text.casefold() in _PLACEHOLDERS:
        raise Unavailable("firmware has a placeholder, not a real value")
    return text


_VERSION_RE: Final = re.compile(r"(?<![\w.])(\d+(?:\.\d+)+(?:[a-z][a-z0-9]*)?)(?![\w.])", re.ASCII)


def extract_version(text: str) -> str:
    """The first dotted version number in a ``--version`` line.

    ``"Mozilla Firefox 128.3.1esr"`` -> ``"128.3.1esr"``,
    ``"Chromium 120.0.6099.224 built on Debian 12.4"`` -> ``"120.0.6099.224"``.
    """
    match = _VERSION_RE.search(text)
    if match is None:
        raise Unavailable("no version number in the program's output")
    return match.group(1)


_MAC_RE: Final = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$", re.IGNORECASE)


def normalise_mac(raw: str) -> str | None:
    """``"00-1A-2B-3C-4D-5E"`` or ``"00:1a:..."`` -> ``"00:1a:2b:3c:4d:5e"``; None for
    malformed or all-zero addresses (loopback, tunnels), which identify nothing."""
    raw = raw.strip()
    if not _MAC_RE.match(raw):
        return None
    mac = raw.replace("-", ":").lower()
    if mac == "00:00:00:00:00:00":
        return None
    return mac


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cap_applications(
    apps: Iterable[tuple[str, str | None]],
    *,
    max_items: int = APPLICATIONS_MAX_ITEMS,
    max_bytes: int = APPLICATIONS_MAX_BYTES,
) -> dict[str, JsonValue]:
    """Deduplicate, sort and cap an application list for the wire.

    Returns ``{"total": n, "items": [{"name", "version"}, ...], "omitted": k}``:
    names are clipped to APP_NAME_MAX characters and versions to APP_VERSION_MAX,
    entries are sorted by name (case-insensitive) and the list stops at
    ``max_items`` entries or ``max_bytes`` encoded bytes, whichever comes first.
    ``total`` counts every distinct application; ``omitted`` is how many were left out.
    """
    unique: dict[tuple[str, str | None], None] = {}
    for name, version in apps:
        clean_name = _clip(name, APP_NAME_MAX)
        if not clean_name:
            continue
        clean_version = _clip(version, APP_VERSION_MAX) if version else None
        unique[(clean_name, clean_version or None)] = None
    ordered = sorted(unique, key=lambda nv: (nv[0].casefold(), nv[0], nv[1] or ""))
    items: list[JsonValue] = []
    used = 2  # the surrounding brackets
    for name, version in ordered:
        if len(items) >= max_items:
            break
        entry: dict[str, JsonValue] = {"name": name, "version": version}
        size = len(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()) + 1
        if used + size > max_bytes:
            break
        items.append(entry)
        used += size
    return {"total": len(ordered), "items": items, "omitted": len(ordered) - len(items)}
