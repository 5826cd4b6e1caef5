"""macOS backend: what macOS tells an ordinary user quickly and for certain.

sw_vers, sysctl, ioreg, route, ifconfig, diskutil, socketfilterfw, the
LaunchServices preferences and the Info.plist of each app in /Applications. The
parsers are module functions, tested on recorded output (macOS cannot run here);
what macOS has no honest source for (antivirus, service packs, IE) is null.
"""

from __future__ import annotations

import logging
import plistlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from .addresses import ip_addresses
from .base import JsonValue, SharedReading, SysInfoBackend, Unavailable
from .common import INTERFACES_MAX, cap_applications, cpu_vendor_name, normalise_mac
from .posix import free_bytes

__all__ = [
    "DarwinBackend",
    "parse_sw_vers",
    "parse_ioreg_manufacturer",
    "model_device_type",
    "parse_route_gateway",
    "parse_socketfilterfw",
    "parse_ifconfig_macs",
    "parse_diskutil_volume_uuid",
    "launchservices_handler",
    "bundle_display_name",
]

logger = logging.getLogger(__name__)

_LS_PLIST: Final = "Library/Preferences/com.apple.LaunchServices/com.apple.launchservices.secure.plist"
_APP_DIRS: Final = ("/Applications", "/Applications/Utilities", "/System/Applications")
_KNOWN_BUNDLES: Final[dict[str, str]] = {
    "com.apple.safari": "Safari",
    "com.google.chrome": "Google Chrome",
    "org.mozilla.firefox": "Firefox",
    "com.microsoft.edgemac": "Microsoft Edge",
    "com.brave.browser": "Brave",
    "com.operasoftware.opera": "Opera",
    "com.vivaldi.vivaldi": "Vivaldi",
    "company.thebrowser.browser": "Arc",
    "com.apple.mail": "Mail",
    "com.microsoft.outlook": "Microsoft Outlook",
    "org.mozilla.thunderbird": "Thunderbird",
}


def parse_sw_vers(text: str) -> dict[str, str]:
    """``sw_vers`` -> {"ProductName": "macOS", "ProductVersion": "14.4.1", "BuildVersion": ...}."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def parse_ioreg_manufacturer(text: str) -> str:
    """``ioreg -rd1 -c IOPlatformExpertDevice``: the ``"manufacturer" = <"Apple Inc.">`` line."""
    match = re.search(r'"manufacturer" = <"([^"]*)">', text)
    if match is None or not match.group(1).strip():
        raise Unavailable("no manufacturer in the platform registry")
    return match.group(1).strip()


def model_device_type(model: str) -> str:
    """Device type from the model identifier: "MacBookAir10,1" -> "Notebook"."""
    for prefix, kind in (
        ("MacBook", "Notebook"),
        ("iMac", "All in One"),
        ("Macmini", "Desktop"),
        ("MacPro", "Desktop"),
        ("Mac13,", "Desktop"),  # Mac Studio (2022) has no family prefix
        ("Mac14,13", "Desktop"),
        ("Mac14,14", "Desktop"),
        ("VirtualMac", "Virtual machine"),
    ):
        if model.startswith(prefix):
            return kind
    raise Unavailable("device type not known for this model identifier")


def parse_route_gateway(text: str) -> bool:
    """``route -n get default``: a ``gateway:`` line means a router is configured."""
    return any(line.strip().startswith("gateway:") for line in text.splitlines())


def parse_socketfilterfw(text: str) -> bool:
    """``socketfilterfw --getglobalstate``: "Firewall is enabled. (State = 1)"."""
    match = re.search(r"State = (\d)", text)
    if match is not None:
        return match.group(1) != "0"
    lowered = text.lower()
    if "enabled" in lowered:
        return True
    if "disabled" in lowered:
        return False
    raise Unavailable("unexpected socketfilterfw output")


def parse_ifconfig_macs(text: str) -> list[JsonValue]:
    """``ifconfig``: interface header lines, then a tab-indented ``ether`` line."""
    out: list[JsonValue] = []
    interface = ""
    for line in text.splitlines():
        if line and not line[0].isspace():
            interface = line.split(":", 1)[0]
            continue
        words = line.split()
        if len(words) >= 2 and words[0] == "ether" and interface and not interface.startswith("lo"):
            mac = normalise_mac(words[1])
            if mac is not None:
                out.append({"interface": interface, "mac": mac})
    return out


def parse_diskutil_volume_uuid(text: str) -> str:
    """``diskutil info /``: the ``Volume UUID:`` line."""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Volume UUID" and value.strip():
            return value.strip()
    raise Unavailable("no Volume UUID in diskutil output")


def launchservices_handler(prefs: Mapping[str, object], scheme: str) -> str:
    """Bundle id the user chose for a URL scheme in the LaunchServices preferences."""
    handlers = prefs.get("LSHandlers")
    if isinstance(handlers, list):
        for handler in handlers:
            if (
                isinstance(handler, dict)
                and handler.get("LSHandlerURLScheme") == scheme
                and isinstance(handler.get("LSHandlerRoleAll"), str)
            ):
                return str(handler["LSHandlerRoleAll"]).lower()
    raise Unavailable(f"no {scheme} handler chosen (macOS then uses its built-in app)")


def bundle_display_name(bundle_id: str) -> str:
    return _KNOWN_BUNDLES.get(bundle_id.lower(), bundle_id)


class DarwinBackend(SysInfoBackend):
    platform = "darwin"

    def __init__(self, *, deadline: float | None = None, home: Path | None = None) -> None:
        super().__init__(deadline=deadline)
        self.home = Path.home() if home is None else home
        self._sw_vers = SharedReading(lambda: parse_sw_vers(self.run(["sw_vers"], what="sw_vers")))
        self._model = SharedReading(lambda: self._sysctl("hw.model"))
        self._apps = SharedReading(self._scan_apps)
        self._ls_prefs = SharedReading(self._load_ls_prefs)

    def _sysctl(self, name: str) -> str:
        value = self.run(["sysctl", "-n", name], what="sysctl").strip()
        if not value:
            raise Unavailable(f"sysctl {name} is empty")
        return value

    def _scan_apps(self) -> list[tuple[str, str | None, str]]:
        """(name, version, bundle id) of each app bundle in the application folders."""
        found: list[tuple[str, str | None, str]] = []
        for folder in _APP_DIRS:
            try:
                bundles = sorted(Path(folder).glob("*.app"))
            except OSError:
                continue
            for bundle in bundles:
                try:
                    with (bundle / "Contents" / "Info.plist").open("rb") as fh:
                        info = plistlib.load(fh)
                except (OSError, ValueError, plistlib.InvalidFileException):
                    continue
                name = info.get("CFBundleDisplayName") or info.get("CFBundleName") or bundle.stem
                version = info.get("CFBundleShortVersionString")
                ident = info.get("CFBundleIdentifier")
                found.append(
                    (
                        str(name),
                        str(version) if version else None,
                        str(ident).lower() if ident else "",
                    )
                )
        return found

    def _load_ls_prefs(self) -> dict[str, object]:
        try:
            with (self.home / _LS_PLIST).open("rb") as fh:
                prefs = plistlib.load(fh)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, plistlib.InvalidFileException):
            raise Unavailable("LaunchServices preferences not readable") from None
        return prefs if isinstance(prefs, dict) else {}

    def _handler_version(self, scheme: str) -> str:
        bundle_id = launchservices_handler(self._ls_prefs.get(), scheme)
        for _name, version, ident in self._apps.get():
            if ident == bundle_id and version:
                return version
        raise Unavailable("application bundle not found in /Applications")

    def read_os(self) -> JsonValue:
        name = self._sw_vers.get().get("ProductName")
        if not name:
            raise Unavailable("sw_vers has no ProductName")
        return name

    def read_os_version(self) -> JsonValue:
        info = self._sw_vers.get()
        version = info.get("ProductVersion")
        if not version:
            raise Unavailable("sw_vers has no ProductVersion")
        build = info.get("BuildVersion")
        return f"{version} ({build})" if build else version

    def read_os_service_pack(self) -> JsonValue:
        raise Unavailable("not applicable: macOS has no service packs")

    def read_device_type(self) -> JsonValue:
        return model_device_type(self._model.get())

    def read_system_manufacturer(self) -> JsonValue:
        out = self.run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], what="ioreg")
        return parse_ioreg_manufacturer(out)

    def read_system_model(self) -> JsonValue:
        return self._model.get()

    def read_cpu_vendor(self) -> JsonValue:
        try:
            return cpu_vendor_name(self._sysctl("machdep.cpu.vendor"))
        except Unavailable:
            brand = self._sysctl("machdep.cpu.brand_string")
            if brand.startswith("Apple"):
                return "Apple"
            raise Unavailable("CPU vendor not reported") from None

    def read_cpu_clock_mhz(self) -> JsonValue:
        try:
            hertz = self._sysctl("hw.cpufrequency_max")
        except Unavailable:
            raise Unavailable("Apple silicon does not report a clock") from None
        if not hertz.isdigit():
            raise Unavailable("unexpected hw.cpufrequency_max")
        return round(int(hertz) / 1_000_000)

    def read_physical_memory_bytes(self) -> JsonValue:
        value = self._sysctl("hw.memsize")
        if not value.isdigit():
            raise Unavailable("unexpected hw.memsize")
        return int(value)

    def read_disk_volume_serial(self) -> JsonValue:
        return parse_diskutil_volume_uuid(self.run(["diskutil", "info", "/"], what="diskutil"))

    def read_disk_free_bytes(self) -> JsonValue:
        return free_bytes(Path("/"))

    def read_ie_version(self) -> JsonValue:
        raise Unavailable("not Windows")

    def read_default_browser(self) -> JsonValue:
        return bundle_display_name(launchservices_handler(self._ls_prefs.get(), "http"))

    def read_default_browser_version(self) -> JsonValue:
        return self._handler_version("http")

    def read_default_mail_client(self) -> JsonValue:
        return bundle_display_name(launchservices_handler(self._ls_prefs.get(), "mailto"))

    def read_default_mail_client_version(self) -> JsonValue:
        return self._handler_version("mailto")

    def read_router_present(self) -> JsonValue:
        # Exit 1 with "not in table" means there is no default route: a reading too.
        return parse_route_gateway(self.run(["route", "-n", "get", "default"], what="route", ok_codes=(0, 1)))

    def read_firewall(self) -> JsonValue:
        out = self.run(
            ["/usr/libexec/ApplicationFirewall/socketfilterfw", "--getglobalstate"], what="socketfilterfw"
        )
        return {
            "enabled": parse_socketfilterfw(out),
            "provider": "macOS Application Firewall",
            "profiles": {},
        }

    def read_antivirus(self) -> JsonValue:
        raise Unavailable("macOS has no antivirus registry (XProtect is built in)")

    def read_mac_addresses(self) -> JsonValue:
        return parse_ifconfig_macs(self.run(["ifconfig"], what="ifconfig"))[:INTERFACES_MAX]

    def read_ip_addresses(self) -> JsonValue:
        return ip_addresses()

    def read_applications(self) -> JsonValue:
        apps = self._apps.get()
        if not apps:
            raise Unavailable("no application bundles found")
        return cap_applications((name, version) for name, version, _ in apps)
