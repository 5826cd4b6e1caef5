"""macOS parsers on recorded command output (macOS cannot run here)."""

from __future__ import annotations

import pytest

from agent.sysinfo import Unavailable
from agent.sysinfo import darwin as d

SW_VERS = "ProductName:\t\tmacOS\nProductVersion:\t\t14.4.1\nBuildVersion:\t\t23E224\n"

IOREG = """+-o J314sAP  <class IOPlatformExpertDevice, id 0x100000220, registered, matched, active, busy 0 \
(1 ms), retain 40>
    {
      "IOPlatformUUID" = "00000000-0000-0000-0000-000000000000"
      "manufacturer" = <"Apple Inc.">
      "compatible" = <"J314sAP","MacBookPro18,3","AppleARM">
      "model" = <"MacBookPro18,3">
    }
"""

ROUTE_DEFAULT = """   route to: default
destination: default
       mask: default
    gateway: 192.168.1.1
  interface: en0
      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
"""

ROUTE_NONE = "route: writing to routing socket: not in table\n"

IFCONFIG = """lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
\toptions=1203<RXCSUM,TXCSUM,TXSTATUS,SW_TIMESTAMP>
\tinet 127.0.0.1 netmask 0xff000000
en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\toptions=6460<TSO4,TSO6,CHANNEL_IO,PARTIAL_CSUM,ZEROINVERT_CSUM>
\tether 3c:22:fb:12:34:56
\tinet 192.168.1.20 netmask 0xffffff00 broadcast 192.168.1.255
utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380
\tinet6 fe80::1%utun0 prefixlen 64 scopeid 0x10
bridge0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tether 36:7d:da:aa:bb:00
"""

DISKUTIL = """   Device Identifier:         disk3s1s1
   Volume Name:               Macintosh HD
   Mounted:                   Yes
   Volume UUID:               5A9C3E0B-7F51-4E0C-9C3A-8E1B2D4F6A70
   Disk / Partition UUID:     5A9C3E0B-7F51-4E0C-9C3A-8E1B2D4F6A70
"""


def test_sw_vers() -> None:
    info = d.parse_sw_vers(SW_VERS)
    assert info == {"ProductName": "macOS", "ProductVersion": "14.4.1", "BuildVersion": "23E224"}


def test_ioreg_manufacturer_only() -> None:
    assert d.parse_ioreg_manufacturer(IOREG) == "Apple Inc."
    with pytest.raises(Unavailable):
        d.parse_ioreg_manufacturer('"manufacturer" = <"">')


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("MacBookPro18,3", "Notebook"),
        ("iMac21,1", "All in One"),
        ("Macmini9,1", "Desktop"),
        ("VirtualMac2,1", "Virtual machine"),
    ],
)
def test_model_device_type(model: str, kind: str) -> None:
    assert d.model_device_type(model) == kind


def test_unknown_model_is_not_guessed() -> None:
    with pytest.raises(Unavailable):
        d.model_device_type("Mac99,9")


def test_route_and_firewall() -> None:
    assert d.parse_route_gateway(ROUTE_DEFAULT) is True
    assert d.parse_route_gateway(ROUTE_NONE) is False
    assert d.parse_socketfilterfw("Firewall is enabled. (State = 1)\n") is True
    assert d.parse_socketfilterfw("Firewall is disabled. (State = 0)\n") is False
    assert (
        d.parse_socketfilterfw("Firewall is blocking all non-essential incoming connections. (State = 2)")
        is True
    )
    with pytest.raises(Unavailable):
        d.parse_socketfilterfw("")


def test_ifconfig_macs_skip_loopback_and_tunnels() -> None:
    assert d.parse_ifconfig_macs(IFCONFIG) == [
        {"interface": "en0", "mac": "3c:22:fb:12:34:56"},
        {"interface": "bridge0", "mac": "36:7d:da:aa:bb:00"},
    ]


def test_diskutil_volume_uuid() -> None:
    assert d.parse_diskutil_volume_uuid(DISKUTIL) == "5A9C3E0B-7F51-4E0C-9C3A-8E1B2D4F6A70"
    with pytest.raises(Unavailable):
        d.parse_diskutil_volume_uuid("   Volume Name:  X\n")


def test_launchservices_handlers() -> None:
    prefs: dict[str, object] = {
        "LSHandlers": [
            {"LSHandlerContentType": "public.html", "LSHandlerRoleAll": "com.google.chrome"},
            {
                "LSHandlerURLScheme": "http",
                "LSHandlerRoleAll": "com.google.Chrome",
                "LSHandlerPreferredVersions": {},
            },
            {"LSHandlerURLScheme": "mailto", "LSHandlerRoleAll": "com.microsoft.Outlook"},
        ]
    }
    assert d.launchservices_handler(prefs, "http") == "com.google.chrome"
    assert d.bundle_display_name(d.launchservices_handler(prefs, "http")) == "Google Chrome"
    assert d.bundle_display_name(d.launchservices_handler(prefs, "mailto")) == "Microsoft Outlook"
    assert d.bundle_display_name("org.example.browser") == "org.example.browser"
    with pytest.raises(Unavailable, match="built-in"):
        d.launchservices_handler({}, "https")
