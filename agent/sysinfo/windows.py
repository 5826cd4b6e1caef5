"""Windows backend: the registry (winreg), a few kernel32/version.dll calls
(ctypes), and Get-CimInstance through Windows PowerShell for what only CIM knows
(chassis type, Security Center products, network adapters). No admin rights.

This module is the thin I/O layer: every decision is in windows_parsers.py, which
is tested on recorded registry dumps and CIM JSON. Imported only by the factory on
Windows; ``mypy --platform win32`` type-checks it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import struct
import sys
import winreg
from ctypes import wintypes
from dataclasses import dataclass
from typing import Final

from . import windows_parsers as wp
from .addresses import ip_addresses
from .base import JsonValue, SharedReading, SysInfoBackend, Unavailable, errno_name
from .common import INTERFACES_MAX, cap_applications

# The factory imports this module on Windows only; the assert also tells mypy so.
assert sys.platform == "win32"

__all__ = ["WindowsBackend"]

logger = logging.getLogger(__name__)

_HKLM: Final = winreg.HKEY_LOCAL_MACHINE
_HKCU: Final = winreg.HKEY_CURRENT_USER
_HKCR: Final = winreg.HKEY_CLASSES_ROOT
_VIEW_64: Final = winreg.KEY_WOW64_64KEY
_VIEW_32: Final = winreg.KEY_WOW64_32KEY

_CURRENT_VERSION: Final = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
_BIOS: Final = r"HARDWARE\DESCRIPTION\System\BIOS"
_CPU0: Final = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
_IE: Final = r"SOFTWARE\Microsoft\Internet Explorer"
_UNINSTALL: Final = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
_USER_CHOICE: Final = r"Software\Microsoft\Windows\Shell\Associations\UrlAssociations\{}\UserChoice"
_FIREWALL_LOCAL: Final = r"SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"
_FIREWALL_POLICY: Final = r"SOFTWARE\Policies\Microsoft\WindowsFirewall"
_CLIENTS_MAIL: Final = r"Software\Clients\Mail"

# Full path: a powershell.exe planted earlier on PATH must not be what we run.
_POWERSHELL: Final = os.path.join(
    os.environ.get("SYSTEMROOT", r"C:\Windows"), "System32", "WindowsPowerShell", "v1.0", "powershell.exe"
)
_CIM_REASONS: Final = {
    "antivirus": "Security Center not available (Windows Server has none)",
    "firewall": "Security Center not available (Windows Server has none)",
}


def _values(hive: int, path: str, view: int = _VIEW_64) -> dict[str, object]:
    """All values of one key as winreg returns them; Unavailable if it is missing."""
    try:
        with winreg.OpenKey(hive, path, 0, winreg.KEY_READ | view) as key:
            out: dict[str, object] = {}
            index = 0
            while True:
                try:
                    name, data, _kind = winreg.EnumValue(key, index)
                except OSError:  # ERROR_NO_MORE_ITEMS
                    return out
                out[name] = data
                index += 1
    except FileNotFoundError:
        raise Unavailable("registry key missing") from None
    except OSError as exc:
        raise Unavailable(f"registry key not readable ({errno_name(exc)})") from None


def _values_or_empty(hive: int, path: str, view: int = _VIEW_64) -> dict[str, object]:
    try:
        return _values(hive, path, view)
    except Unavailable:
        return {}


def _subkey_values(hive: int, path: str, view: int) -> list[dict[str, object]]:
    try:
        key = winreg.OpenKey(hive, path, 0, winreg.KEY_READ | view)
    except OSError:
        return []
    entries: list[dict[str, object]] = []
    with key:
        index = 0
        while True:
            try:
                name = winreg.EnumKey(key, index)
            except OSError:
                break
            index += 1
            entries.append(_values_or_empty(hive, f"{path}\\{name}", view))
    return entries


def _decode_powershell(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode(f"cp{ctypes.windll.kernel32.GetOEMCP()}", "replace")


class _VS_FIXEDFILEINFO(ctypes.Structure):
    _fields_ = [
        ("dwSignature", wintypes.DWORD),
        ("dwStrucVersion", wintypes.DWORD),
        ("dwFileVersionMS", wintypes.DWORD),
        ("dwFileVersionLS", wintypes.DWORD),
        ("dwProductVersionMS", wintypes.DWORD),
        ("dwProductVersionLS", wintypes.DWORD),
        ("dwFileFlagsMask", wintypes.DWORD),
        ("dwFileFlags", wintypes.DWORD),
        ("dwFileOS", wintypes.DWORD),
        ("dwFileType", wintypes.DWORD),
        ("dwFileSubtype", wintypes.DWORD),
        ("dwFileDateMS", wintypes.DWORD),
        ("dwFileDateLS", wintypes.DWORD),
    ]


class _MEMORYSTATUSEX(ctypes.Structure):
    _fields_ = [
        ("dwLength", wintypes.DWORD),
        ("dwMemoryLoad", wintypes.DWORD),
        ("ullTotalPhys", ctypes.c_ulonglong),
        ("ullAvailPhys", ctypes.c_ulonglong),
        ("ullTotalPageFile", ctypes.c_ulonglong),
        ("ullAvailPageFile", ctypes.c_ulonglong),
        ("ullTotalVirtual", ctypes.c_ulonglong),
        ("ullAvailVirtual", ctypes.c_ulonglong),
        ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
    ]


def _kernel32() -> ctypes.WinDLL:
    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    k32.GetVolumeInformationW.argtypes = [
        wintypes.LPCWSTR,
        wintypes.LPWSTR,
        wintypes.DWORD,
        ctypes.POINTER(wintypes.DWORD),
        ctypes.POINTER(wintypes.DWORD),
        ctypes.POINTER(wintypes.DWORD),
        wintypes.LPWSTR,
        wintypes.DWORD,
    ]
    k32.GetVolumeInformationW.restype = wintypes.BOOL
    k32.GetDiskFreeSpaceExW.argtypes = [
        wintypes.LPCWSTR,
        ctypes.POINTER(ctypes.c_ulonglong),
        ctypes.POINTER(ctypes.c_ulonglong),
        ctypes.POINTER(ctypes.c_ulonglong),
    ]
    k32.GetDiskFreeSpaceExW.restype = wintypes.BOOL
    k32.GetPhysicallyInstalledSystemMemory.argtypes = [ctypes.POINTER(ctypes.c_ulonglong)]
    k32.GetPhysicallyInstalledSystemMemory.restype = wintypes.BOOL
    k32.GlobalMemoryStatusEx.argtypes = [ctypes.POINTER(_MEMORYSTATUSEX)]
    k32.GlobalMemoryStatusEx.restype = wintypes.BOOL
    return k32


def _file_version(path: str) -> str:
    """ProductVersion of an executable: the version string resource, else the
    fixed-info numbers (what Explorer's Details tab shows)."""
    dll = ctypes.WinDLL("version", use_last_error=True)
    dll.GetFileVersionInfoSizeW.argtypes = [wintypes.LPCWSTR, ctypes.POINTER(wintypes.DWORD)]
    dll.GetFileVersionInfoSizeW.restype = wintypes.DWORD
    dll.GetFileVersionInfoW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p]
    dll.GetFileVersionInfoW.restype = wintypes.BOOL
    dll.VerQueryValueW.argtypes = [
        ctypes.c_void_p,
        wintypes.LPCWSTR,
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(wintypes.UINT),
    ]
    dll.VerQueryValueW.restype = wintypes.BOOL
    size = int(dll.GetFileVersionInfoSizeW(path, None))
    if size == 0:
        raise Unavailable("program file has no version information")
    buffer = ctypes.create_string_buffer(size)
    if not dll.GetFileVersionInfoW(path, 0, size, buffer):
        raise Unavailable("program file version not readable")
    pointer = ctypes.c_void_p()
    length = wintypes.UINT()
    if (
        dll.VerQueryValueW(buffer, "\\VarFileInfo\\Translation", ctypes.byref(pointer), ctypes.byref(length))
        and length.value >= 4
        and pointer.value
    ):
        language, codepage = struct.unpack("<HH", ctypes.string_at(pointer.value, 4))
        sub_block = wp.version_string_path(language, codepage)
        if (
            dll.VerQueryValueW(buffer, sub_block, ctypes.byref(pointer), ctypes.byref(length))
            and pointer.value
        ):
            text = ctypes.wstring_at(pointer.value, length.value).split("\x00", 1)[0].strip()
            if text:
                return text
    if (
        dll.VerQueryValueW(buffer, "\\", ctypes.byref(pointer), ctypes.byref(length))
        and length.value >= ctypes.sizeof(_VS_FIXEDFILEINFO)
        and pointer.value
    ):
        info = _VS_FIXEDFILEINFO.from_address(pointer.value)
        return wp.format_file_version(info.dwProductVersionMS, info.dwProductVersionLS)
    raise Unavailable("program file version not readable")


@dataclass(frozen=True)
class _WinApp:
    name: str
    program: str | None
    store_app: bool = False


class WindowsBackend(SysInfoBackend):
    platform = "win32"

    def __init__(self, *, deadline: float | None = None) -> None:
        super().__init__(deadline=deadline)
        self._current_version = SharedReading(lambda: _values(_HKLM, _CURRENT_VERSION))
        self._bios = SharedReading(lambda: _values(_HKLM, _BIOS))
        self._cpu0 = SharedReading(lambda: _values(_HKLM, _CPU0))
        self._cim_batch = SharedReading(self._run_cim_batch)
        self._network = SharedReading(
            lambda: wp.network_adapters(self._cim("network"), max_entries=INTERFACES_MAX)
        )
        self._browser = SharedReading(lambda: self._default_app("http"))
        self._mail = SharedReading(lambda: self._default_app("mailto"))
        self._system_root = os.environ.get("SYSTEMDRIVE", "C:").rstrip("\\") + "\\"

    def _run_cim_batch(self) -> dict[str, str | None]:
        # Stop the process half a second before the collector's deadline, so the
        # sections it finished still reach the items waiting for them; and give each
        # CIM query a second less than that, so a slow class fails cleanly instead.
        budget = self.remaining() - 0.5
        timeout = max(1, int(budget) - 1)
        raw = self.run_bytes(
            [_POWERSHELL, "-NoProfile", "-NonInteractive", "-Command", wp.cim_batch_script(timeout)],
            what="PowerShell",
            max_seconds=budget,
            partial_on_timeout=True,
        )
        sections = wp.split_cim_sections(_decode_powershell(raw))
        logger.debug(
            "CIM sections: %s",
            ", ".join(f"{k}={'ok' if v is not None else 'failed'}" for k, v in sections.items()),
        )
        return sections

    def _cim(self, name: str, *, wait: float | None = None) -> list[wp.CimObject]:
        sections = self._cim_batch.get(timeout=wait)
        if name not in sections:
            raise Unavailable("PowerShell stopped before this query finished")
        section = sections[name]
        if section is None:
            raise Unavailable(_CIM_REASONS.get(name, f"{wp.CIM_QUERIES[name][1]} query failed"))
        return wp.parse_cim_json(section)

    # --- OS ------------------------------------------------------------------------

    def read_os(self) -> JsonValue:
        return wp.os_name(self._current_version.get())

    def read_os_version(self) -> JsonValue:
        return wp.os_version(self._current_version.get())

    def read_os_service_pack(self) -> JsonValue:
        return wp.os_service_pack(self._current_version.get())

    # --- hardware ------------------------------------------------------------------

    def read_device_type(self) -> JsonValue:
        return wp.device_type(self._cim("enclosure"))

    def read_system_manufacturer(self) -> JsonValue:
        return wp.system_manufacturer(self._bios.get())

    def read_system_model(self) -> JsonValue:
        return wp.system_model(self._bios.get())

    def read_cpu_vendor(self) -> JsonValue:
        return wp.cpu_vendor(self._cpu0.get())

    def read_cpu_clock_mhz(self) -> JsonValue:
        return wp.cpu_clock_mhz(self._cpu0.get())

    def read_physical_memory_bytes(self) -> JsonValue:
        k32 = _kernel32()
        kilobytes = ctypes.c_ulonglong()
        if k32.GetPhysicallyInstalledSystemMemory(ctypes.byref(kilobytes)) and kilobytes.value:
            return int(kilobytes.value) * 1024
        # No SMBIOS memory table (some VMs): the RAM Windows can use instead.
        status = _MEMORYSTATUSEX()
        status.dwLength = ctypes.sizeof(_MEMORYSTATUSEX)
        if k32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.ullTotalPhys)
        raise Unavailable("memory size not readable")

    # --- disk ----------------------------------------------------------------------

    def read_disk_volume_serial(self) -> JsonValue:
        serial = wintypes.DWORD()
        # Only the serial is requested: the volume label may be a name the user typed.
        ok = _kernel32().GetVolumeInformationW(
            self._system_root, None, 0, ctypes.byref(serial), None, None, None, 0
        )
        if not ok:
            raise Unavailable(f"GetVolumeInformationW failed (error {ctypes.get_last_error()})")
        return wp.format_volume_serial(int(serial.value))

    def read_disk_free_bytes(self) -> JsonValue:
        free_to_caller = ctypes.c_ulonglong()
        total = ctypes.c_ulonglong()
        total_free = ctypes.c_ulonglong()
        ok = _kernel32().GetDiskFreeSpaceExW(
            self._system_root, ctypes.byref(free_to_caller), ctypes.byref(total), ctypes.byref(total_free)
        )
        if not ok:
            raise Unavailable(f"GetDiskFreeSpaceExW failed (error {ctypes.get_last_error()})")
        # Free to this user: quotas can make it less than the volume's free space.
        return int(free_to_caller.value)

    # --- browser and mail ----------------------------------------------------------

    def read_ie_version(self) -> JsonValue:
        try:
            values = _values(_HKLM, _IE)
        except Unavailable:
            raise Unavailable("Internet Explorer is not installed") from None
        return wp.ie_version(values)

    def _default_app(self, scheme: str) -> _WinApp:
        schemes = ("http", "https") if scheme == "http" else (scheme,)
        for name in schemes:
            try:
                progid = wp.user_choice_progid(_values(_HKCU, _USER_CHOICE.format(name), 0))
            except Unavailable:
                continue
            application = _values_or_empty(_HKCR, rf"{progid}\Application", 0) or None
            command = _values_or_empty(_HKCR, rf"{progid}\shell\open\command", 0).get("")
            program = wp.command_program(command, os.environ) if isinstance(command, str) else None
            return _WinApp(
                name=wp.app_display_name(progid, application),
                program=program,
                store_app=progid.startswith("AppX"),
            )
        if scheme == "mailto":
            # No UserChoice yet: the legacy per-user, then machine-wide mail client.
            for hive in (_HKCU, _HKLM):
                client = _values_or_empty(hive, _CLIENTS_MAIL, 0).get("")
                if isinstance(client, str) and client.strip():
                    command = _values_or_empty(_HKLM, rf"{_CLIENTS_MAIL}\{client}\shell\open\command").get("")
                    program = wp.command_program(command, os.environ) if isinstance(command, str) else None
                    return _WinApp(name=client.strip(), program=program)
        raise Unavailable("no default chosen (no UserChoice ProgId)")

    def _app_version(self, app: _WinApp) -> str:
        if app.store_app:
            raise Unavailable("Store app: version not read")
        if app.program is None:
            raise Unavailable("program path not registered")
        if not os.path.isfile(app.program):
            raise Unavailable("registered program file missing")
        return _file_version(app.program)

    def read_default_browser(self) -> JsonValue:
        return self._browser.get().name

    def read_default_browser_version(self) -> JsonValue:
        return self._app_version(self._browser.get())

    def read_default_mail_client(self) -> JsonValue:
        return self._mail.get().name

    def read_default_mail_client_version(self) -> JsonValue:
        return self._app_version(self._mail.get())

    # --- network -------------------------------------------------------------------

    def read_router_present(self) -> JsonValue:
        return self._network.get().router_present

    def read_mac_addresses(self) -> JsonValue:
        return self._network.get().macs

    def read_ip_addresses(self) -> JsonValue:
        try:
            return self._network.get().addresses
        except Unavailable:
            # PowerShell blocked or slow: GetAdaptersAddresses still works.
            return ip_addresses()

    # --- security ------------------------------------------------------------------

    def read_firewall(self) -> JsonValue:
        profiles = wp.FIREWALL_PROFILES.values()
        local = {key: _values_or_empty(_HKLM, rf"{_FIREWALL_LOCAL}\{key}") for key, _ in profiles}
        policy = {key: _values_or_empty(_HKLM, rf"{_FIREWALL_POLICY}\{key}") for _, key in profiles}
        try:
            # Third-party firewalls are optional detail: stop early enough that the
            # registry answer is still reported if Security Center is slow.
            products: list[wp.CimObject] | None = self._cim("firewall", wait=self.remaining() - 0.3)
        except Unavailable:
            products = None
        return wp.firewall_state(local, policy, products)

    def read_antivirus(self) -> JsonValue:
        products: list[JsonValue] = list(wp.security_products(self._cim("antivirus")))
        return products

    # --- applications --------------------------------------------------------------

    def read_applications(self) -> JsonValue:
        entries = [
            *_subkey_values(_HKLM, _UNINSTALL, _VIEW_64),
            *_subkey_values(_HKLM, _UNINSTALL, _VIEW_32),
            *_subkey_values(_HKCU, _UNINSTALL, 0),
        ]
        if not entries:
            raise Unavailable("Uninstall keys not readable")
        return cap_applications(wp.uninstall_applications(entries))
