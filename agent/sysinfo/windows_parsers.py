"""Pure parsers for what the Windows backend reads: registry values and CIM JSON.

The I/O layer (windows.py) turns a registry key into ``{value name: data}``
exactly as ``winreg.EnumValue`` returns the data (str for REG_SZ/REG_EXPAND_SZ,
int for REG_DWORD/REG_QWORD, list[str] for REG_MULTI_SZ, bytes for REG_BINARY),
and runs ``Get-CimInstance ... | Select-Object ... | ConvertTo-Json`` in Windows
PowerShell 5.1. Everything here is a function of that data only, so it runs and is
tested on Linux against recorded dumps (tests/data/sysinfo/windows/).

Registry data is not trusted to have the documented type: installers write
DisplayVersion as a DWORD, leave trailing spaces, or store empty strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from .base import JsonValue, Unavailable
from .common import chassis_name, cpu_vendor_name, firmware_text, normalise_mac

__all__ = [
    "RegValues",
    "CimObject",
    "os_name",
    "os_version",
    "os_service_pack",
    "cpu_vendor",
    "cpu_clock_mhz",
    "system_manufacturer",
    "system_model",
    "ie_version",
    "user_choice_progid",
    "app_display_name",
    "command_program",
    "expand_env",
    "format_volume_serial",
    "format_file_version",
    "version_string_path",
    "uninstall_applications",
    "firewall_state",
    "FIREWALL_PROFILES",
    "CIM_QUERIES",
    "CIM_MARKER",
    "CIM_FAILED",
    "cim_batch_script",
    "split_cim_sections",
    "parse_cim_json",
    "decode_product_state",
    "security_products",
    "device_type",
    "NetworkReading",
    "network_adapters",
]

RegValues = Mapping[str, object]
"""One registry key's values: name -> data as winreg returns it ("" is the default value)."""
CimObject = dict[str, object]
"""One CIM instance as decoded from ConvertTo-Json."""


def _text(values: RegValues, name: str) -> str | None:
    """A string value, trimmed; None when missing, empty or not a string."""
    value = values.get(name)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _number(values: RegValues, name: str) -> int | None:
    value = values.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# --- HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion -------------------------------

_WINDOWS_11_FIRST_BUILD: Final = 22000


def os_name(current_version: RegValues) -> str:
    """ "Windows 11 Pro" etc. from ProductName, corrected for Windows 11.

    Windows 11 kept ProductName "Windows 10 ..." in the registry for compatibility;
    the build number (22000 and later) is what tells them apart.
    """
    product = _text(current_version, "ProductName")
    if product is None:
        raise Unavailable("ProductName missing from the registry")
    build = _number(current_version, "CurrentBuildNumber") or _number(current_version, "CurrentBuild")
    if build is not None and build >= _WINDOWS_11_FIRST_BUILD and product.startswith("Windows 10"):
        product = "Windows 11" + product.removeprefix("Windows 10")
    return product


def os_version(current_version: RegValues) -> str:
    """``"23H2 (10.0.22631.4460)"``: the feature update name and the full build."""
    build = _number(current_version, "CurrentBuildNumber") or _number(current_version, "CurrentBuild")
    if build is None:
        raise Unavailable("build number missing from the registry")
    major = _number(current_version, "CurrentMajorVersionNumber")
    minor = _number(current_version, "CurrentMinorVersionNumber")
    if major is not None and minor is not None:
        numeric = f"{major}.{minor}.{build}"
    else:  # Windows 8.1 and older only have CurrentVersion "6.3"
        numeric = f"{_text(current_version, 'CurrentVersion') or '?'}.{build}"
    ubr = _number(current_version, "UBR")
    if ubr is not None:
        numeric += f".{ubr}"
    # DisplayVersion exists from 20H2; ReleaseId before (and is frozen at "2009" after).
    feature = _text(current_version, "DisplayVersion") or _text(current_version, "ReleaseId")
    return f"{feature} ({numeric})" if feature else numeric


def os_service_pack(current_version: RegValues) -> str:
    csd = _text(current_version, "CSDVersion")
    if csd is not None:
        return csd
    build = _number(current_version, "CurrentBuildNumber") or _number(current_version, "CurrentBuild") or 0
    if build >= 10240:
        raise Unavailable("not applicable: Windows 10 and later have no service packs")
    raise Unavailable("no service pack installed")


# --- HKLM\HARDWARE\DESCRIPTION\System\... ---------------------------------------------


def cpu_vendor(processor0: RegValues) -> str:
    """VendorIdentifier of CentralProcessor\\0 ("GenuineIntel" -> "Intel")."""
    vendor = _text(processor0, "VendorIdentifier")
    if vendor is None:
        raise Unavailable("VendorIdentifier missing from the registry")
    return cpu_vendor_name(vendor)


def cpu_clock_mhz(processor0: RegValues) -> int:
    """``~MHz`` of CentralProcessor\\0: the rated clock Windows measured at boot."""
    mhz = _number(processor0, "~MHz")
    if mhz is None or mhz <= 0:
        raise Unavailable("~MHz missing from the registry")
    return mhz


def system_manufacturer(bios: RegValues) -> str:
    return firmware_text(bios.get("SystemManufacturer"))


def system_model(bios: RegValues) -> str:
    # Lenovo stores a machine-type code ("20HRCTO1WW") as the product name and the
    # marketing name ("ThinkPad X1 Carbon 5th") in SystemVersion.
    if (_text(bios, "SystemManufacturer") or "").upper() == "LENOVO":
        try:
            return firmware_text(bios.get("SystemVersion"))
        except Unavailable:
            pass
    return firmware_text(bios.get("SystemProductName"))


# --- HKLM\SOFTWARE\Microsoft\Internet Explorer ----------------------------------------


def ie_version(internet_explorer: RegValues) -> str:
    """svcVersion (IE 10 and 11) or Version (IE 9 and older).

    IE 10/11 left ``Version`` at "9.11.<build>" for compatibility, so svcVersion,
    when present, is the real one.
    """
    version = _text(internet_explorer, "svcVersion") or _text(internet_explorer, "Version")
    if version is None:
        raise Unavailable("Internet Explorer is not installed")
    return version


# --- default browser and mail client ---------------------------------------------------

# UserChoice ProgIds of well-known programs. Firefox, Vivaldi and Chromium append a
# per-install hash ("FirefoxURL-308046B0AF4A39CB"), hence prefix matching.
_KNOWN_PROGIDS: Final[tuple[tuple[str, str], ...]] = (
    ("MSEdgeHTM", "Microsoft Edge"),
    ("MSEdgeBHTML", "Microsoft Edge Beta"),
    ("MSEdgeDHTML", "Microsoft Edge Dev"),
    ("AppXq0fevzme2pys62n3e0fbqa7peapykr8v", "Microsoft Edge (legacy)"),
    ("ChromeHTML", "Google Chrome"),
    ("ChromeBHTML", "Google Chrome Beta"),
    ("FirefoxURL", "Mozilla Firefox"),
    ("FirefoxHTML", "Mozilla Firefox"),
    ("IE.HTTP", "Internet Explorer"),
    ("BraveHTML", "Brave"),
    ("OperaStable", "Opera"),
    ("Opera GXStable", "Opera GX"),
    ("VivaldiHTM", "Vivaldi"),
    ("ChromiumHTM", "Chromium"),
    ("Outlook.URL.mailto", "Microsoft Outlook"),
    ("Thunderbird.Url.mailto", "Mozilla Thunderbird"),
    ("AppXydk58wgm44se4b399k9ey8skbnbynmjb", "Mail (Windows)"),
    ("AppX1g5kxmf2p1mt4fkzsq3tpa1rrxj3j3gx", "Outlook (new)"),
)


def user_choice_progid(user_choice: RegValues) -> str:
    """ProgId of a UrlAssociations\\<scheme>\\UserChoice key."""
    progid = _text(user_choice, "ProgId")
    if progid is None:
        raise Unavailable("no default chosen (UserChoice has no ProgId)")
    return progid


def app_display_name(progid: str, application: RegValues | None) -> str:
    """A readable name for a ProgId: a known product, else the ProgId's registered
    ``Application\\ApplicationName`` if it is plain text, else the ProgId itself.

    ApplicationName is often an indirect string ("@{Microsoft...?ms-resource://...}"
    or "@C:\\...dll,-123") that only the shell can resolve; it is never shown raw.
    """
    for prefix, known in _KNOWN_PROGIDS:
        if progid == prefix or progid.startswith((prefix + "-", prefix + ".")):
            return known
    if application is not None:
        registered = _text(application, "ApplicationName")
        if registered is not None and not registered.startswith("@"):
            return registered
    return progid


_ENV_RE: Final = re.compile(r"%([^%]+)%")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Expand ``%VAR%`` the way REG_EXPAND_SZ does (names case-insensitive; unknown
    variables left as they are)."""
    upper = {k.upper(): v for k, v in env.items()}
    return _ENV_RE.sub(lambda m: upper.get(m.group(1).upper(), m.group(0)), text)


def command_program(command: str, env: Mapping[str, str]) -> str:
    """The executable of a ``shell\\open\\command`` line.

    ``"C:\\Program Files\\...\\chrome.exe" --single-argument %1`` -> the quoted path;
    unquoted lines (``C:\\PROGRA~1\\...\\iexplore.exe %1``) end at the first ``.exe``.
    """
    line = expand_env(command.strip(), env)
    if line.startswith('"'):
        end = line.find('"', 1)
        if end > 1:
            return line[1:end]
        raise Unavailable("malformed open command in the registry")
    match = re.match(r"(.+?\.exe)(?:\s|$)", line, re.IGNORECASE)
    if match:
        return match.group(1)
    first = line.split(" ", 1)[0]
    if not first:
        raise Unavailable("empty open command in the registry")
    return first


def format_volume_serial(serial: int) -> str:
    """GetVolumeInformationW's 32-bit serial as ``dir`` shows it: ``"1A2B-3C4D"``."""
    if not 0 <= serial <= 0xFFFFFFFF:
        raise Unavailable("volume serial out of range")
    return f"{serial >> 16:04X}-{serial & 0xFFFF:04X}"


def format_file_version(ms: int, ls: int) -> str:
    """VS_FIXEDFILEINFO's two DWORDs -> ``"a.b.c.d"``."""
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def version_string_path(language: int, codepage: int) -> str:
    """VerQueryValueW sub-block of the ProductVersion string for one translation."""
    return f"\\StringFileInfo\\{language:04x}{codepage:04x}\\ProductVersion"


# --- applications (Uninstall keys) ----------------------------------------------------

_UPDATE_RELEASE_TYPES: Final = frozenset(
    {"update", "hotfix", "security update", "update rollup", "service pack"}
)
_KB_RE: Final = re.compile(r"\(KB\d{6,8}\)")


def uninstall_applications(entries: Iterable[RegValues]) -> list[tuple[str, str | None]]:
    """Programs listed in Apps & features from the Uninstall subkeys' values.

    Apps & features hides entries without DisplayName, system components, child
    entries of another product (ParentKeyName) and updates; so do we.
    """
    apps: list[tuple[str, str | None]] = []
    for values in entries:
        name = _text(values, "DisplayName")
        if name is None or _number(values, "SystemComponent") == 1:
            continue
        if _text(values, "ParentKeyName") is not None:
            continue
        if (_text(values, "ReleaseType") or "").lower() in _UPDATE_RELEASE_TYPES or _KB_RE.search(name):
            continue
        raw_version = values.get("DisplayVersion")
        version: str | None
        if isinstance(raw_version, int) and not isinstance(raw_version, bool):
            version = str(raw_version)
        else:
            version = _text(values, "DisplayVersion")
        apps.append((name, version))
    return apps


# --- firewall (registry) ---------------------------------------------------------------

FIREWALL_PROFILES: Final[dict[str, tuple[str, str]]] = {
    # name shown -> (subkey under ...\FirewallPolicy, subkey under Policies\...\WindowsFirewall)
    "domain": ("DomainProfile", "DomainProfile"),
    "private": ("StandardProfile", "PrivateProfile"),
    "public": ("PublicProfile", "PublicProfile"),
}


def firewall_state(
    local: Mapping[str, RegValues],
    policy: Mapping[str, RegValues],
    products: list[CimObject] | None,
) -> dict[str, JsonValue]:
    """Windows Firewall per profile, Group Policy first, plus third-party firewalls.

    ``local``: FirewallPolicy subkey -> values; ``policy``: Policies subkey -> values
    (missing when no GPO sets it); ``products``: SecurityCenter2 FirewallProduct
    instances, or None where Security Center does not exist (Windows Server).
    ``enabled`` is true when any profile or registered product is on; the profiles
    say which.
    """
    profiles: dict[str, JsonValue] = {}
    for shown, (local_key, policy_key) in FIREWALL_PROFILES.items():
        value = _number(policy.get(policy_key, {}), "EnableFirewall")
        if value is None:
            value = _number(local.get(local_key, {}), "EnableFirewall")
        if value is not None:
            profiles[shown] = value == 1
    provider = "Windows Defender Firewall"
    enabled = any(v is True for v in profiles.values())
    for product in security_products(products or []):
        if product["state"] == "on":
            provider = str(product["name"])
            enabled = True
            break
    if not profiles and not products:
        raise Unavailable("firewall settings not found in the registry")
    return {"enabled": enabled, "provider": provider, "profiles": profiles}


# --- CIM (Get-CimInstance | Select-Object | ConvertTo-Json, Windows PowerShell 5.1) -------

CIM_QUERIES: Final[dict[str, tuple[str, str, str | None, tuple[str, ...]]]] = {
    # name -> (namespace, class, WQL filter, properties), in the order they run:
    # the network first (three items need it), Security Center (slowest) last.
    # Never a path property (pathToSignedProductExe etc.): paths can carry the user name.
    "network": (
        "root/cimv2",
        "Win32_NetworkAdapterConfiguration",
        "IPEnabled = True",
        ("Description", "MACAddress", "IPAddress", "IPSubnet", "DefaultIPGateway"),
    ),
    "enclosure": ("root/cimv2", "Win32_SystemEnclosure", None, ("ChassisTypes",)),
    "antivirus": ("root/SecurityCenter2", "AntiVirusProduct", None, ("displayName", "productState")),
    "firewall": ("root/SecurityCenter2", "FirewallProduct", None, ("displayName", "productState")),
}

CIM_MARKER: Final = "#madoguchi-cim:"
"""Line that starts each query's section in the batch output; ``#madoguchi-cim:end`` ends it."""
CIM_FAILED: Final = "#madoguchi-cim-failed"
"""Line a section holds instead of JSON when Get-CimInstance threw (class or namespace missing)."""


def cim_batch_script(timeout: int) -> str:
    """One Windows PowerShell 5.1 command running every query of CIM_QUERIES.

    One process, because each powershell.exe costs a second or more and ~100 MB on
    the 1 GHz / 1-4 GB machines of R21. Each query prints a marker line, then its
    ConvertTo-Json output (or the failure line), so one failing class costs only its
    own section, and sections completed before a timeout kill are still usable.
    """
    parts = [
        # Fails harmlessly in Constrained Language Mode; the output is then in the
        # OEM code page, which the backend falls back to when decoding.
        "try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }",
        "$ErrorActionPreference = 'Stop'",
    ]
    for name, (namespace, cls, wql_filter, props) in CIM_QUERIES.items():
        where = f" -Filter '{wql_filter}'" if wql_filter else ""
        parts.append(f"'{CIM_MARKER}{name}'")
        parts.append(
            f"try {{ Get-CimInstance -Namespace '{namespace}' -ClassName '{cls}'{where} "
            f"-OperationTimeoutSec {timeout} | Select-Object -Property {','.join(props)} "
            f"| ConvertTo-Json -Depth 3 }} catch {{ '{CIM_FAILED}' }}"
        )
    parts.append(f"'{CIM_MARKER}end'")
    return "; ".join(parts)


def split_cim_sections(text: str) -> dict[str, str | None]:
    """Batch output -> {query name: its ConvertTo-Json text, or None if it failed}.

    A query whose section was not closed by the next marker (the process was
    killed at the deadline while it ran) is absent: it did not finish.
    """
    sections: dict[str, str | None] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.lstrip("\ufeff").splitlines():
        if line.startswith(CIM_MARKER):
            if current is not None:
                body = "\r\n".join(lines)
                sections[current] = None if body.strip() == CIM_FAILED else body
            name = line[len(CIM_MARKER) :].strip()
            current = None if name == "end" else name
            lines = []
        elif current is not None:
            lines.append(line)
    return sections


def parse_cim_json(raw: str | bytes) -> list[CimObject]:
    """ConvertTo-Json output -> a list of instances.

    Windows PowerShell writes nothing at all for no instances, a bare object for
    exactly one, and an array for several; an array that picked up extended type
    data comes out as ``{"value": [...], "Count": n}``. A UTF-8 BOM may lead.
    """
    text = raw.decode("utf-8-sig", "replace") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    if not text.strip():
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        raise Unavailable("PowerShell output is not JSON") from None
    if isinstance(doc, dict) and set(doc) == {"value", "Count"} and isinstance(doc["value"], list):
        doc = doc["value"]
    if isinstance(doc, dict):
        return [doc]
    if isinstance(doc, list):
        return [item for item in doc if isinstance(item, dict)]
    raise Unavailable("unexpected PowerShell output")


_PRODUCT_STATES: Final = {0: "off", 1: "on", 2: "snoozed", 3: "expired"}


def decode_product_state(state: int) -> tuple[str | None, bool]:
    """SecurityCenter2 ``productState`` -> (state, signatures up to date).

    The DWORD is undocumented but stable since Vista: bits 12-15 hold the product
    state (0 off, 1 on, 2 snoozed, 3 expired) and bits 4-7 the signature status
    (0 up to date, 1 out of date). 397568 = 0x061100 is Defender, on, up to date.
    """
    return _PRODUCT_STATES.get((state >> 12) & 0xF), (state >> 4) & 0xF == 0


def security_products(instances: list[CimObject]) -> list[dict[str, JsonValue]]:
    """AntiVirusProduct / FirewallProduct instances -> ``{"name", "state", "up_to_date"}``."""
    out: list[dict[str, JsonValue]] = []
    for instance in instances:
        name = instance.get("displayName")
        if not isinstance(name, str) or not name.strip():
            continue
        raw_state = instance.get("productState")
        state: str | None = None
        up_to_date: bool | None = None
        if isinstance(raw_state, int) and not isinstance(raw_state, bool):
            state, up_to_date = decode_product_state(raw_state)
        out.append({"name": name.strip(), "state": state, "up_to_date": up_to_date})
    return out


def device_type(enclosures: list[CimObject]) -> str:
    """Win32_SystemEnclosure ``ChassisTypes`` -> SMBIOS chassis name.

    ChassisTypes is a uint16 array; a docked laptop has one entry per enclosure.
    The first that is not "Other"/"Unknown" wins.
    """
    codes: list[int] = []
    for enclosure in enclosures:
        raw = enclosure.get("ChassisTypes")
        values = raw if isinstance(raw, list) else [raw]
        codes.extend(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    if not codes:
        raise Unavailable("no chassis type reported")
    for code in codes:
        if code not in (1, 2):
            return chassis_name(code)
    return chassis_name(codes[0])


@dataclass(frozen=True)
class NetworkReading:
    macs: list[JsonValue]
    addresses: list[JsonValue]
    router_present: bool


def _prefix_length(subnet: object, version: int) -> int | None:
    if not isinstance(subnet, str):
        return None
    if version == 6 or subnet.isdigit():
        return int(subnet) if subnet.isdigit() else None
    try:
        bits = "".join(f"{int(part):08b}" for part in subnet.split("."))
    except ValueError:
        return None
    return bits.count("1") if len(bits) == 32 and "01" not in bits else None


def network_adapters(adapters: list[CimObject], max_entries: int) -> NetworkReading:
    """Win32_NetworkAdapterConfiguration (IPEnabled) -> MACs, addresses, router.

    IPAddress and IPSubnet are parallel arrays (subnet as a dotted mask for IPv4,
    a prefix length for IPv6). IPv6 link-local and loopback addresses are left out,
    as on the other OSes. A router is present when an adapter has a default gateway.
    """
    import ipaddress

    macs: list[JsonValue] = []
    addresses: list[JsonValue] = []
    router = False
    for adapter in adapters:
        name = adapter.get("Description")
        label = name.strip() if isinstance(name, str) and name.strip() else "?"
        raw_mac = adapter.get("MACAddress")
        mac = normalise_mac(raw_mac) if isinstance(raw_mac, str) else None
        if mac is not None:
            macs.append({"interface": label, "mac": mac})
        ips = adapter.get("IPAddress")
        subnets = adapter.get("IPSubnet")
        ip_list = ips if isinstance(ips, list) else [ips] if isinstance(ips, str) else []
        subnet_list = subnets if isinstance(subnets, list) else [subnets]
        for index, raw_ip in enumerate(ip_list):
            if not isinstance(raw_ip, str):
                continue
            try:
                addr = ipaddress.ip_address(raw_ip.split("%", 1)[0])
            except ValueError:
                continue
            if addr.is_loopback or (addr.version == 6 and addr.is_link_local):
                continue
            prefix = _prefix_length(subnet_list[index] if index < len(subnet_list) else None, addr.version)
            text = f"{addr}/{prefix}" if prefix is not None else str(addr)
            addresses.append({"interface": label, "address": text})
        gateways = adapter.get("DefaultIPGateway")
        gateway_list = gateways if isinstance(gateways, list) else [gateways]
        if any(isinstance(g, str) and g.strip() for g in gateway_list):
            router = True
    return NetworkReading(macs[:max_entries], addresses[:max_entries], router)
