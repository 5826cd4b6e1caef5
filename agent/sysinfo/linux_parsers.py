"""Pure parsers for the files and command outputs the Linux backend reads.

Kept apart from the I/O so the functional tests can feed them both the live
files of this machine and hand-made edge cases.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Final

from .base import Unavailable

__all__ = [
    "parse_os_release",
    "parse_cpuinfo",
    "cpu_vendor_from_cpuinfo",
    "cpu_mhz_from_cpuinfo",
    "has_hypervisor_flag",
    "parse_meminfo_total",
    "has_default_route_v4",
    "has_default_route_v6",
    "parse_mimeapps",
    "parse_desktop_entry",
    "exec_program",
    "parse_dpkg",
    "parse_rpm",
    "parse_pacman",
    "parse_ufw_conf",
    "nft_ruleset_filters",
    "iptables_save_filters",
]


def parse_os_release(text: str) -> dict[str, str]:
    """os-release(5): ``KEY=value`` lines, values optionally shell-quoted."""
    out: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            words = shlex.split(raw, posix=True)
        except ValueError:  # unbalanced quote: take the text as it stands
            words = [raw.strip("\"'")]
        out[key.strip()] = " ".join(words)
    return out


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """/proc/cpuinfo -> one ``{field: value}`` dict per blank-line separated block."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def cpu_vendor_from_cpuinfo(text: str) -> str:
    """The raw vendor: x86 ``vendor_id`` or Arm ``CPU implementer`` (a hex code)."""
    for block in parse_cpuinfo(text):
        for field in ("vendor_id", "CPU implementer"):
            if block.get(field):
                return block[field]
    raise Unavailable("no vendor field in /proc/cpuinfo")


def cpu_mhz_from_cpuinfo(text: str) -> int:
    """The first ``cpu MHz`` (x86 only: the clock at the time of reading)."""
    for block in parse_cpuinfo(text):
        value = block.get("cpu MHz")
        if value:
            try:
                return round(float(value))
            except ValueError:
                break
    raise Unavailable("no clock in /proc/cpuinfo")


def has_hypervisor_flag(text: str) -> bool:
    """True if the CPU reports the CPUID "hypervisor" bit (the kernel runs in a VM)."""
    return any("hypervisor" in block.get("flags", "").split() for block in parse_cpuinfo(text))


def parse_meminfo_total(text: str) -> int:
    """``MemTotal`` of /proc/meminfo in bytes (RAM usable by the kernel)."""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                factor = 1024 if len(parts) < 3 or parts[2].lower() == "kb" else 1
                return int(parts[1]) * factor
    raise Unavailable("no MemTotal in /proc/meminfo")


_RTF_UP: Final = 0x1
_RTF_GATEWAY: Final = 0x2


def has_default_route_v4(text: str) -> bool:
    """/proc/net/route: an up route to 0.0.0.0/0 through a gateway."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("Iface"):
        raise Unavailable("unexpected /proc/net/route format")
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            dest, flags, mask = int(fields[1], 16), int(fields[3], 16), int(fields[7], 16)
        except ValueError:
            continue
        if dest == 0 and mask == 0 and flags & _RTF_UP and flags & _RTF_GATEWAY:
            return True
    return False


def has_default_route_v6(text: str) -> bool:
    """/proc/net/ipv6_route: an up ::/0 route with a non-zero next hop."""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10:
            continue
        dest, prefix, next_hop, flags = fields[0], fields[1], fields[4], fields[8]
        try:
            flag_bits = int(flags, 16)
        except ValueError:
            continue
        if (
            set(dest) == {"0"}
            and prefix == "00"
            and set(next_hop) != {"0"}
            and flag_bits & _RTF_UP
            and flag_bits & _RTF_GATEWAY
        ):
            return True
    return False


def _ini_groups(text: str) -> Iterator[tuple[str, str, str]]:
    """(group, key, value) for each entry of a freedesktop .ini-like file."""
    group = ""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if sep:
            yield group, key.strip(), value.strip()


def parse_mimeapps(text: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """mimeapps.list -> (``[Default Applications]``, ``[Added Associations]``),
    each mapping a MIME type to desktop ids in preference order."""
    defaults: dict[str, list[str]] = {}
    added: dict[str, list[str]] = {}
    for group, key, value in _ini_groups(text):
        target = {"Default Applications": defaults, "Added Associations": added}.get(group)
        if target is not None and key not in target:
            target[key] = [d.strip() for d in value.split(";") if d.strip()]
    return defaults, added


def parse_desktop_entry(text: str) -> dict[str, str]:
    """The unlocalised keys of the ``[Desktop Entry]`` group of a .desktop file."""
    return {k: v for g, k, v in _ini_groups(text) if g == "Desktop Entry" and "[" not in k}


def exec_program(exec_line: str) -> str:
    """The program an ``Exec=`` line starts (``env VAR=x prog %u`` -> ``prog``)."""
    try:
        words = shlex.split(exec_line)
    except ValueError:
        raise Unavailable("malformed Exec line in the desktop file") from None
    while words and (words[0] == "env" or ("=" in words[0] and not words[0].startswith("/"))):
        words.pop(0)
    if not words:
        raise Unavailable("empty Exec line in the desktop file")
    return words[0]


# Applications whose package names happen to start with "lib".
_LIB_NAMED_APPS: Final = ("libreoffice", "librewolf", "libvirt-clients", "libvirt-daemon")


def _is_library(name: str, section: str) -> bool:
    # Libraries, debug symbols, dev headers and data packages are dependencies of
    # applications, not applications: listing them would bury what the operator
    # looks for (and blow the size budget).
    if name.startswith(_LIB_NAMED_APPS):
        return False
    return (
        section.rsplit("/", 1)[-1] in {"libs", "oldlibs", "libdevel", "debug"}
        or name.startswith("lib")
        or name.endswith(("-dev", "-dbg", "-dbgsym", "-doc", "-common", "-data"))
    )


def parse_dpkg(text: str) -> list[tuple[str, str | None]]:
    """``dpkg-query -W -f '${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Section}\\n'``
    -> installed non-library packages as (name, version)."""
    apps: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or not fields[0].startswith("ii"):
            continue
        _, name, version, section = fields[:4]
        if name and not _is_library(name, section):
            apps.append((name, version or None))
    return apps


def parse_rpm(text: str) -> list[tuple[str, str | None]]:
    """``rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'`` -> non-library packages."""
    apps: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        name, sep, version = line.partition("\t")
        if (
            sep
            and name
            and not name.startswith("gpg-pubkey")
            and not _is_library(name, "")
            and not name.endswith(("-libs", "-devel", "-debuginfo", "-debugsource"))
        ):
            apps.append((name, version or None))
    return apps


def parse_pacman(text: str) -> list[tuple[str, str | None]]:
    """``pacman -Q`` (``name version`` lines) -> non-library packages."""
    apps: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not _is_library(parts[0], ""):
            apps.append((parts[0], parts[1]))
    return apps


def parse_ufw_conf(text: str) -> bool:
    """/etc/ufw/ufw.conf ``ENABLED=yes|no``: whether ufw is switched on."""
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "ENABLED":
            return value.strip().strip("\"'").lower() == "yes"
    raise Unavailable("ufw.conf has no ENABLED line")


def nft_ruleset_filters(text: str) -> bool:
    """``nft -j list ruleset``: is any inbound packet filtered?

    True when a filter base chain hooked on input has a drop policy or holds at
    least one rule. Forward chains are left out on purpose: container runtimes fill
    them on hosts that have no firewall of their own.
    """
    try:
        doc = json.loads(text)
    except ValueError:
        raise Unavailable("nft output is not JSON") from None
    entries = doc.get("nftables") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise Unavailable("unexpected nft output")
    filtering: set[tuple[object, object, object]] = set()
    for entry in entries:
        chain = entry.get("chain") if isinstance(entry, dict) else None
        if isinstance(chain, dict) and chain.get("hook") == "input" and chain.get("type") == "filter":
            ident = (chain.get("family"), chain.get("table"), chain.get("name"))
            if chain.get("policy") == "drop":
                return True
            filtering.add(ident)
    for entry in entries:
        rule = entry.get("rule") if isinstance(entry, dict) else None
        if isinstance(rule, dict) and (rule.get("family"), rule.get("table"), rule.get("chain")) in filtering:
            return True
    return False


def iptables_save_filters(text: str) -> bool:
    """``iptables-save`` output: a DROP policy or any rule on the INPUT chain
    (FORWARD left out for the same reason as in :func:`nft_ruleset_filters`)."""
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif table == "filter" and line.startswith(":INPUT "):
            if line.split()[1] in ("DROP", "REJECT"):
                return True
        elif table == "filter" and line.startswith("-A INPUT "):
            return True
    return False
