"""IP addresses of the network interfaces, through ``ifaddr`` (getifaddrs on POSIX,
GetAdaptersAddresses on Windows), shared by every backend."""

from __future__ import annotations

import ipaddress

import ifaddr

from .base import JsonValue
from .common import INTERFACES_MAX

__all__ = ["ip_addresses"]


def ip_addresses() -> JsonValue:
    """Non-loopback addresses as ``{"interface", "address"}`` with prefix length.

    IPv6 link-local addresses (fe80::/10) are left out: every interface has one and
    they mean nothing beyond the local link. IPv4 link-local (169.254/16) is kept,
    because it tells the operator that DHCP failed.
    """
    out: list[JsonValue] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            raw = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            try:
                addr = ipaddress.ip_address(raw.split("%", 1)[0])
            except ValueError:
                continue
            if addr.is_loopback or (addr.version == 6 and addr.is_link_local):
                continue
            out.append({"interface": adapter.nice_name, "address": f"{addr}/{ip.network_prefix}"})
    out.sort(key=lambda e: (str(e["interface"]) if isinstance(e, dict) else "", str(e)))
    return out[:INTERFACES_MAX]
