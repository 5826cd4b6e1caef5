"""Linux backend: /etc/os-release, /proc, /sys, statvfs, XDG mimeapps, the package
manager and a few commands, each bounded by the collection deadline.

Everything here works without root. Where a reading needs privileges (nftables
rules, raw block devices) the item is null with a reason saying so.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from . import linux_parsers as lp
from .addresses import ip_addresses
from .base import JsonValue, SharedReading, SysInfoBackend, Unavailable, errno_name
from .common import (
    INTERFACES_MAX,
    cap_applications,
    chassis_name,
    cpu_vendor_name,
    extract_version,
    firmware_text,
    normalise_mac,
)
from .posix import free_bytes, same_block_device, unix_socket_accepts

__all__ = ["LinuxBackend"]

logger = logging.getLogger(__name__)

# Programs we know print their version and exit on ``--version`` without opening a
# window. Anything else is looked up in the package database instead of being run.
_VERSION_FLAG_PROGRAMS: Final = frozenset(
    {
        "firefox",
        "firefox-esr",
        "firefox-bin",
        "librewolf",
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "google-chrome-beta",
        "microsoft-edge",
        "microsoft-edge-stable",
        "brave",
        "brave-browser",
        "vivaldi",
        "vivaldi-stable",
        "opera",
        "thunderbird",
        "evolution",
        "geary",
        "claws-mail",
        "epiphany",
        "falkon",
    }
)

_BROWSER_TYPES: Final = ("x-scheme-handler/http", "x-scheme-handler/https", "text/html")
_MAIL_TYPES: Final = ("x-scheme-handler/mailto",)

# (display name, paths whose presence means the product is installed). Linux has no
# registry of security products, so only these are recognised; docs/sysinfo.md says so.
_ANTIVIRUS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("ClamAV", ("usr/sbin/clamd", "usr/bin/clamscan", "usr/bin/freshclam")),
    ("Microsoft Defender for Endpoint", ("opt/microsoft/mdatp",)),
    ("Sophos Protection for Linux", ("opt/sophos-spl",)),
    ("ESET Endpoint Antivirus", ("opt/eset",)),
    ("CrowdStrike Falcon", ("opt/CrowdStrike",)),
    ("Trend Micro Deep Security Agent", ("opt/ds_agent",)),
)
_CLAMD_SOCKETS: Final = ("run/clamav/clamd.ctl", "run/clamd.scan/clamd.sock", "var/run/clamav/clamd.ctl")

_ARPHRD_LOOPBACK: Final = 772


@dataclass(frozen=True)
class _DefaultApp:
    name: str
    program: str | None  # absolute path of the executable, when it could be resolved
    flatpak: bool = False


class LinuxBackend(SysInfoBackend):
    """Reads from ``root`` (``/`` except in tests) and the XDG variables of ``environ``."""

    platform = "linux"

    def __init__(
        self,
        *,
        deadline: float | None = None,
        root: Path = Path("/"),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(deadline=deadline, environ=environ)
        self.root = root
        self._os_release = SharedReading(self._load_os_release)
        self._cpuinfo = SharedReading(lambda: self._read("proc/cpuinfo"))
        self._browser = SharedReading(
            lambda: self._default_app(_BROWSER_TYPES, ("default-web-browser",), alternative="x-www-browser")
        )
        self._mail = SharedReading(
            lambda: self._default_app(_MAIL_TYPES, ("default-url-scheme-handler", "mailto"), alternative=None)
        )

    # --- helpers -------------------------------------------------------------------

    def _path(self, relative: str) -> Path:
        return self.root / relative

    def _read(self, relative: str) -> str:
        try:
            return self._path(relative).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise Unavailable(f"/{relative} missing") from None
        except OSError as exc:
            raise Unavailable(f"/{relative} not readable ({errno_name(exc)})") from None

    def _which(self, program: str) -> str | None:
        return shutil.which(program, path=self.environ.get("PATH", os.defpath))

    def _load_os_release(self) -> dict[str, str]:
        for candidate in ("etc/os-release", "usr/lib/os-release"):
            try:
                return lp.parse_os_release(self._read(candidate))
            except Unavailable:
                continue
        raise Unavailable("no os-release file")

    def _dmi(self, name: str) -> str:
        return self._read(f"sys/class/dmi/id/{name}").strip()

    # --- OS ------------------------------------------------------------------------

    def read_os(self) -> JsonValue:
        release = self._os_release.get()
        name = release.get("NAME") or release.get("ID")
        if not name:
            raise Unavailable("os-release has no NAME")
        return name

    def read_os_version(self) -> JsonValue:
        release = self._os_release.get()
        for key in ("VERSION", "VERSION_ID", "BUILD_ID"):
            if release.get(key):
                return release[key]
        raise Unavailable("os-release has no version")

    def read_os_service_pack(self) -> JsonValue:
        raise Unavailable("not applicable: Linux has no service packs")

    # --- hardware ------------------------------------------------------------------

    def read_device_type(self) -> JsonValue:
        try:
            code = self._dmi("chassis_type")
        except Unavailable:
            # No SMBIOS (Arm boards, some VMs and containers). The CPUID hypervisor
            # bit is still a reading, not a guess: the kernel runs in a virtual machine.
            if lp.has_hypervisor_flag(self._cpuinfo.get()):
                return "Virtual machine"
            raise Unavailable("no DMI/SMBIOS data (/sys/class/dmi/id missing)") from None
        if not code.isdigit():
            raise Unavailable("unexpected DMI chassis_type")
        return chassis_name(int(code))

    def read_system_manufacturer(self) -> JsonValue:
        try:
            return firmware_text(self._dmi("sys_vendor"))
        except Unavailable as exc:
            if not self._path("sys/class/dmi/id").exists():
                raise Unavailable("no DMI/SMBIOS data (/sys/class/dmi/id missing)") from None
            raise exc from None

    def read_system_model(self) -> JsonValue:
        if self._path("sys/class/dmi/id").exists():
            try:
                vendor = self._dmi("sys_vendor").upper()
            except Unavailable:
                vendor = ""
            # Lenovo puts the marketing name ("ThinkPad X1 Carbon Gen 9") in
            # product_version and a machine-type code in product_name.
            if vendor == "LENOVO":
                try:
                    return firmware_text(self._dmi("product_version"))
                except Unavailable:
                    pass
            return firmware_text(self._dmi("product_name"))
        try:
            # Device-tree machines (Raspberry Pi and other Arm boards).
            return firmware_text(self._read("sys/firmware/devicetree/base/model").rstrip("\x00"))
        except Unavailable:
            raise Unavailable("no DMI/SMBIOS data and no device-tree model") from None

    def read_cpu_vendor(self) -> JsonValue:
        return cpu_vendor_name(lp.cpu_vendor_from_cpuinfo(self._cpuinfo.get()))

    def read_cpu_clock_mhz(self) -> JsonValue:
        try:
            khz = self._read("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").strip()
            if khz.isdigit() and int(khz) > 0:
                return round(int(khz) / 1000)
        except Unavailable:
            pass
        # No cpufreq driver (common in VMs): the kernel's current-clock figure.
        return lp.cpu_mhz_from_cpuinfo(self._cpuinfo.get())

    def read_physical_memory_bytes(self) -> JsonValue:
        return lp.parse_meminfo_total(self._read("proc/meminfo"))

    # --- disk ----------------------------------------------------------------------

    def read_disk_free_bytes(self) -> JsonValue:
        return free_bytes(self.root)

    def read_disk_volume_serial(self) -> JsonValue:
        try:
            device = os.stat(self.root).st_dev
        except OSError as exc:
            raise Unavailable(f"stat failed ({errno_name(exc)})") from None
        by_uuid = self._path("dev/disk/by-uuid")
        try:
            entries = list(os.scandir(by_uuid))
        except OSError:
            entries = []
        for entry in entries:
            try:
                target = os.stat(entry.path)
            except OSError:
                continue
            if same_block_device(target, device):
                return entry.name
        if self.root == Path("/") and self._which("findmnt"):
            # findmnt asks libblkid, which knows UUIDs from udev even where
            # /dev/disk/by-uuid is not populated, and handles btrfs subvolumes.
            args = ["findmnt", "-n", "-o", "UUID", "--mountpoint", "/"]
            uuid = self.run(args, what="findmnt", ok_codes=(0, 1)).strip()
            if uuid:
                return uuid
        raise Unavailable("filesystem UUID not exposed (no /dev/disk/by-uuid entry, findmnt has none)")

    # --- browser and mail ----------------------------------------------------------

    def _xdg_dirs(self) -> tuple[list[Path], list[Path]]:
        """(config dirs, data dirs) in XDG precedence order."""
        env = self.environ
        home = env.get("HOME", "")
        config_home = env.get("XDG_CONFIG_HOME") or (f"{home}/.config" if home else "")
        data_home = env.get("XDG_DATA_HOME") or (f"{home}/.local/share" if home else "")
        config_dirs = (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":")
        data_dirs = (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
        configs = [Path(p) for p in [config_home, *config_dirs] if p]
        datas = [Path(p) for p in [data_home, *data_dirs] if p]
        return configs, datas

    def _find_desktop_file(self, desktop_id: str, data_dirs: list[Path]) -> Path | None:
        if "/" in desktop_id or desktop_id.startswith("."):
            return None
        for base in data_dirs:
            candidate = base / "applications" / desktop_id
            if candidate.is_file():
                return candidate
        return None

    def _default_app(
        self, mime_types: tuple[str, ...], xdg_setting: tuple[str, ...], alternative: str | None
    ) -> _DefaultApp:
        configs, datas = self._xdg_dirs()
        desktops = [d.lower() for d in self.environ.get("XDG_CURRENT_DESKTOP", "").split(":") if d]
        lists: list[Path] = []
        for base in [*configs, *(d / "applications" for d in datas)]:
            lists.extend(base / f"{desktop}-mimeapps.list" for desktop in desktops)
            lists.append(base / "mimeapps.list")
        parsed = []
        for path in lists:
            try:
                parsed.append(lp.parse_mimeapps(path.read_text(encoding="utf-8", errors="replace")))
            except OSError:
                continue
        # XDG MIME Applications spec: [Default Applications] in precedence order,
        # the first installed desktop file wins; [Added Associations] only after.
        for section in (0, 1):
            for mime in mime_types:
                for tables in parsed:
                    for desktop_id in tables[section].get(mime, []):
                        found = self._find_desktop_file(desktop_id, datas)
                        if found is not None:
                            return self._app_from_desktop(found, desktop_id)
        if self._which("xdg-settings"):
            # Desktop-specific settings (KDE's kdeglobals, old GNOME gconf) that are
            # not in any mimeapps.list; the script can be slow, hence the cap.
            out = self.run(["xdg-settings", "get", *xdg_setting], what="xdg-settings", max_seconds=2)
            desktop_id = out.strip()
            found = self._find_desktop_file(desktop_id, datas) if desktop_id else None
            if found is not None:
                return self._app_from_desktop(found, desktop_id)
        if alternative is not None:
            # Debian's system-wide choice (update-alternatives x-www-browser).
            link = self._path(f"etc/alternatives/{alternative}")
            if link.exists():
                program = os.path.realpath(link)
                return _DefaultApp(name=os.path.basename(program), program=program)
        raise Unavailable("no default set (no mimeapps.list entry, no xdg-settings, no alternative)")

    def _app_from_desktop(self, path: Path, desktop_id: str) -> _DefaultApp:
        try:
            entry = lp.parse_desktop_entry(path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise Unavailable(f"desktop file not readable ({errno_name(exc)})") from None
        name = entry.get("Name") or desktop_id.removesuffix(".desktop")
        if "X-Flatpak" in entry:
            return _DefaultApp(name=name, program=None, flatpak=True)
        program: str | None = None
        exec_line = entry.get("TryExec") or entry.get("Exec")
        if exec_line:
            try:
                word = lp.exec_program(exec_line)
            except Unavailable:
                word = ""
            if word:
                program = word if os.path.isabs(word) else self._which(word)
        return _DefaultApp(name=name, program=program)

    def _app_version(self, app: _DefaultApp) -> str:
        if app.flatpak:
            raise Unavailable("Flatpak application: version not read")
        if app.program is None or not os.path.isfile(app.program):
            raise Unavailable("program not found")
        if os.path.basename(app.program) in _VERSION_FLAG_PROGRAMS:
            env = {k: v for k, v in self.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
            out = self.run([app.program, "--version"], what="--version", env=env, max_seconds=3)
            return extract_version(out)
        return self._package_version(os.path.realpath(app.program))

    def _package_version(self, path: str) -> str:
        if self._which("dpkg-query"):
            owner = self.run(["dpkg-query", "-S", path], what="dpkg-query", ok_codes=(0, 1))
            package = owner.split(":", 1)[0].strip() if ":" in owner else ""
            if package:
                version = self.run(["dpkg-query", "-W", "-f", "${Version}", package], what="dpkg-query")
                if version.strip():
                    return version.strip()
        elif self._which("rpm"):
            version = self.run(["rpm", "-qf", "--qf", "%{VERSION}", path], what="rpm", ok_codes=(0, 1))
            if version.strip() and "not owned" not in version:
                return version.strip()
        raise Unavailable("version not readable (program not from a known package)")

    def read_default_browser(self) -> JsonValue:
        return self._browser.get().name

    def read_default_browser_version(self) -> JsonValue:
        return self._app_version(self._browser.get())

    def read_default_mail_client(self) -> JsonValue:
        return self._mail.get().name

    def read_default_mail_client_version(self) -> JsonValue:
        return self._app_version(self._mail.get())

    def read_ie_version(self) -> JsonValue:
        raise Unavailable("not Windows")

    # --- network -------------------------------------------------------------------

    def read_router_present(self) -> JsonValue:
        # A default route through a gateway is what "a router is present" means to
        # a support call: traffic leaves the LAN through it.
        if lp.has_default_route_v4(self._read("proc/net/route")):
            return True
        try:
            return lp.has_default_route_v6(self._read("proc/net/ipv6_route"))
        except Unavailable:
            return False

    def read_mac_addresses(self) -> JsonValue:
        base = self._path("sys/class/net")
        try:
            names = sorted(os.listdir(base))
        except OSError as exc:
            raise Unavailable(f"/sys/class/net not readable ({errno_name(exc)})") from None
        out: list[JsonValue] = []
        for name in names:
            try:
                kind = (base / name / "type").read_text(encoding="ascii").strip()
                address = (base / name / "address").read_text(encoding="ascii").strip()
            except OSError:
                continue
            if kind == str(_ARPHRD_LOOPBACK):
                continue
            mac = normalise_mac(address)
            if mac is not None:
                out.append({"interface": name, "mac": mac})
        return out[:INTERFACES_MAX]

    def read_ip_addresses(self) -> JsonValue:
        return ip_addresses()

    # --- security ------------------------------------------------------------------

    def read_firewall(self) -> JsonValue:
        checked: list[str] = []
        unreadable: list[str] = []
        disabled: list[str] = []
        if self._which("firewall-cmd"):
            checked.append("firewalld")
            try:
                # Exit 252 with "not running" is a valid answer, not a failure.
                args = ["firewall-cmd", "--state"]
                out = self.run(args, what="firewall-cmd", ok_codes=(0, 252), max_seconds=2)
                if out.strip() == "running":
                    return _firewall("firewalld", enabled=True)
                disabled.append("firewalld")
            except Unavailable:
                unreadable.append("firewalld")
        ufw_conf = self._path("etc/ufw/ufw.conf")
        if ufw_conf.exists():
            checked.append("ufw")
            try:
                if lp.parse_ufw_conf(self._read("etc/ufw/ufw.conf")):
                    return _firewall("ufw", enabled=True)
                disabled.append("ufw")
            except Unavailable:
                unreadable.append("ufw")
        for tool, args, parse in (
            ("nftables", ["nft", "-j", "list", "ruleset"], lp.nft_ruleset_filters),
            ("iptables", ["iptables-save"], lp.iptables_save_filters),
        ):
            if not self._which(args[0]):
                continue
            checked.append(tool)
            try:
                if parse(self.run(args, what=args[0], max_seconds=2)):
                    return _firewall(tool, enabled=True)
                disabled.append(tool)
            except Unavailable:
                # Listing kernel rules needs CAP_NET_ADMIN; an ordinary user cannot.
                unreadable.append(tool)
        if unreadable:
            raise Unavailable(f"{', '.join(unreadable)} state not readable without admin rights")
        if disabled:
            return _firewall("/".join(disabled), enabled=False)
        raise Unavailable("no firewall tool found (firewalld, ufw, nft, iptables)")

    def read_antivirus(self) -> JsonValue:
        found: list[JsonValue] = []
        for name, paths in _ANTIVIRUS:
            if any(self._path(p).exists() for p in paths):
                state = self._clamd_state() if name == "ClamAV" else None
                found.append({"name": name, "state": state, "up_to_date": None})
        if not found:
            raise Unavailable("no known antivirus product found (Linux has no antivirus registry)")
        return found

    def _clamd_state(self) -> str | None:
        if not self._path("usr/sbin/clamd").exists():
            return None  # clamscan alone scans on demand: there is no "on" state
        for relative in _CLAMD_SOCKETS:
            path = self._path(relative)
            if path.exists() and unix_socket_accepts(path, max(0.05, min(0.5, self.remaining()))):
                return "on"
        return "off"

    # --- applications --------------------------------------------------------------

    def read_applications(self) -> JsonValue:
        if self._which("dpkg-query"):
            fmt = "${db:Status-Abbrev}\t${Package}\t${Version}\t${Section}\n"
            apps = lp.parse_dpkg(self.run(["dpkg-query", "-W", "-f", fmt], what="dpkg-query"))
        elif self._which("rpm"):
            fmt = "%{NAME}\t%{VERSION}-%{RELEASE}\n"
            apps = lp.parse_rpm(self.run(["rpm", "-qa", "--qf", fmt], what="rpm"))
        elif self._which("pacman"):
            apps = lp.parse_pacman(self.run(["pacman", "-Q"], what="pacman"))
        else:
            raise Unavailable("no supported package manager (dpkg, rpm, pacman)")
        return cap_applications(apps)


def _firewall(provider: str, *, enabled: bool) -> JsonValue:
    return {"enabled": enabled, "provider": provider, "profiles": {}}
