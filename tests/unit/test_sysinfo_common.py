"""Shared sysinfo helpers and the display table."""

from __future__ import annotations

import json

import pytest

from agent.sysinfo import KEYS, JsonValue, Unavailable
from agent.sysinfo.common import (
    APP_NAME_MAX,
    APPLICATIONS_MAX_BYTES,
    cap_applications,
    chassis_name,
    cpu_vendor_name,
    extract_version,
    firmware_text,
    normalise_mac,
)
from agent.sysinfo.display import LABELS, format_value, render_table, rows


def test_cpu_vendor_names() -> None:
    assert cpu_vendor_name("GenuineIntel") == "Intel"
    assert cpu_vendor_name("AuthenticAMD") == "AMD"
    assert cpu_vendor_name("  Shanghai  ") == "Zhaoxin"
    assert cpu_vendor_name("0x41") == "Arm"
    assert cpu_vendor_name("0X61") == "Apple"
    assert cpu_vendor_name("Some Future Vendor ") == "Some Future Vendor"  # as read, not guessed


def test_chassis_names() -> None:
    assert chassis_name(3) == "Desktop"
    assert chassis_name(10) == "Notebook"
    assert chassis_name(0x80 | 9) == "Laptop"  # bit 7 is the lock flag
    with pytest.raises(Unavailable, match="Unknown"):
        chassis_name(2)
    with pytest.raises(Unavailable, match="99"):
        chassis_name(99)


@pytest.mark.parametrize(
    "placeholder",
    ["To Be Filled By O.E.M.", "System manufacturer", "Default string", "  ", "O.E.M.", "Not Specified"],
)
def test_firmware_placeholders(placeholder: str) -> None:
    with pytest.raises(Unavailable):
        firmware_text(placeholder)


def test_firmware_text_normalises_spaces() -> None:
    assert firmware_text("  Dell   Inc. \n") == "Dell Inc."
    with pytest.raises(Unavailable):
        firmware_text(None)


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("Mozilla Firefox 128.3.1esr", "128.3.1esr"),
        ("Chromium 120.0.6099.224 built on Debian 12.4, running on Debian 12.9", "120.0.6099.224"),
        ("Google Chrome 131.0.6778.85 ", "131.0.6778.85"),
        ("Thunderbird 115.16.0", "115.16.0"),
        ("evolution 3.46.4", "3.46.4"),
        ("Opera 114.0.5282.185", "114.0.5282.185"),
    ],
)
def test_extract_version(line: str, version: str) -> None:
    assert extract_version(line) == version


def test_extract_version_needs_a_dotted_number() -> None:
    with pytest.raises(Unavailable):
        extract_version("usage: browser [options] 12")


def test_normalise_mac() -> None:
    assert normalise_mac("3C-58-C2-9A-1B-7E") == "3c:58:c2:9a:1b:7e"
    assert normalise_mac("02:fc:00:00:00:01\n") == "02:fc:00:00:00:01"
    assert normalise_mac("00:00:00:00:00:00") is None
    assert normalise_mac("00:11:22:33:44") is None
    assert normalise_mac("00:11-22:33:44:55") is None  # mixed separators
    assert normalise_mac("00:00:00:00:00:00:00:e0") is None  # 64-bit (InfiniBand-like)


def test_cap_applications_sorts_dedupes_counts() -> None:
    apps = [("zsh", "5.9"), ("Apt", "2.6"), ("zsh", "5.9"), ("  ", "1"), ("bash", None), ("Bash", "")]
    capped = cap_applications(apps)
    assert capped == {
        "total": 4,
        "items": [
            {"name": "Apt", "version": "2.6"},
            {"name": "Bash", "version": None},
            {"name": "bash", "version": None},
            {"name": "zsh", "version": "5.9"},
        ],
        "omitted": 0,
    }


def test_cap_applications_limits_items_and_bytes() -> None:
    many = [(f"app{i:04d}", "1.0") for i in range(1000)]
    by_count = cap_applications(many, max_items=10)
    assert by_count["total"] == 1000
    assert by_count["omitted"] == 990
    wide = [("名" * 500, "v" * 100) for _ in range(1)] + [(f"名前{i}" * 30, "1") for i in range(2000)]
    by_size = cap_applications(wide)
    items = by_size["items"]
    assert isinstance(items, list)
    encoded = json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(encoded) <= APPLICATIONS_MAX_BYTES
    first = items[0]
    assert isinstance(first, dict)
    name = first["name"]
    assert isinstance(name, str)
    assert len(name) <= APP_NAME_MAX


def test_labels_cover_every_key() -> None:
    assert tuple(LABELS) == KEYS


def test_display_formats() -> None:
    assert format_value("disk_free_bytes", 83_810_332_672) == ["78.1 GiB"]
    assert format_value("physical_memory_bytes", 512) == ["512 bytes"]
    assert format_value("cpu_clock_mhz", 2596) == ["2,596 MHz"]
    assert format_value("router_present", False) == ["no"]
    firewall: JsonValue = {"enabled": True, "provider": "W", "profiles": {"domain": False, "public": True}}
    assert format_value("firewall", firewall) == ["on (W): domain off, public on"]
    av: JsonValue = [{"name": "Defender", "state": "on", "up_to_date": False}]
    assert format_value("antivirus", av) == ["Defender (on, out of date)"]
    assert format_value("antivirus", []) == ["none registered"]
    apps: JsonValue = {"total": 3, "items": [{"name": "a", "version": "1"}], "omitted": 2}
    assert format_value("applications", apps) == ["3 installed, 2 not listed (size limit)", "a 1"]


def test_table_rows_and_alignment() -> None:
    data: dict[str, JsonValue] = {
        "os": "Debian",
        "os_version": None,
        "ip_addresses": [
            {"interface": "eth0", "address": "192.0.2.2/24"},
            {"interface": "eth0", "address": "fd00::2/64"},
        ],
    }
    table = rows(data, {"os_version": "no version"}, "ja")
    assert table == [
        ("OS", "Debian"),
        ("OSバージョン", "- (unavailable: no version)"),
        ("IPアドレス", "192.0.2.2/24  (eth0)"),
        ("", "fd00::2/64  (eth0)"),
    ]
    lines = render_table(data, {"os_version": "no version"}, "ja").splitlines()
    # Values start in the same terminal column although Japanese labels are double width:
    # "OSバージョン" is 12 columns wide, so "OS" is padded with 10 spaces, then 2 more.
    assert lines[0] == "OS" + " " * 12 + "Debian"
    assert lines[3].startswith(" " * 12 + "  fd00")
