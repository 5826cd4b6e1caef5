"""Linux parsers on the edge cases this machine does not show (Arm, no default
route, quoting, other package managers, firewall rule sets).

The same parsers run on this machine's live files in
tests/functional/test_sysinfo_linux.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from agent.sysinfo import Unavailable
from agent.sysinfo import linux_parsers as lp

ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x4
CPU part\t: 0xd0b
CPU revision\t: 1

processor\t: 1
CPU implementer\t: 0x41
"""


def test_os_release_quoting() -> None:
    text = """# comment
NAME="Fedora Linux"
VERSION="40 (Workstation Edition)"
ID=fedora
PRETTY_NAME='Fedora Linux 40'
ESCAPED="a \\"quoted\\" word"
BROKEN="unbalanced
"""
    release = lp.parse_os_release(text)
    assert release["NAME"] == "Fedora Linux"
    assert release["VERSION"] == "40 (Workstation Edition)"
    assert release["ID"] == "fedora"
    assert release["PRETTY_NAME"] == "Fedora Linux 40"
    assert release["ESCAPED"] == 'a "quoted" word'
    assert release["BROKEN"] == "unbalanced"


def test_arm_cpuinfo() -> None:
    assert lp.cpu_vendor_from_cpuinfo(ARM_CPUINFO) == "0x41"
    with pytest.raises(Unavailable):
        lp.cpu_mhz_from_cpuinfo(ARM_CPUINFO)  # Arm kernels print no clock
    assert lp.has_hypervisor_flag(ARM_CPUINFO) is False
    assert len(lp.parse_cpuinfo(ARM_CPUINFO)) == 2


def test_meminfo() -> None:
    assert lp.parse_meminfo_total("MemTotal:        2048 kB\nMemFree: 1 kB\n") == 2048 * 1024
    with pytest.raises(Unavailable):
        lp.parse_meminfo_total("MemFree: 1 kB\n")


ROUTE_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"


def test_routes() -> None:
    lan_only = ROUTE_HEADER + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    assert lp.has_default_route_v4(lan_only) is False
    default = ROUTE_HEADER + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
    assert lp.has_default_route_v4(default) is True
    down = ROUTE_HEADER + "wlan0\t00000000\t0101A8C0\t0002\t0\t0\t600\t00000000\t0\t0\t0\n"
    assert lp.has_default_route_v4(down) is False
    with pytest.raises(Unavailable):
        lp.has_default_route_v4("garbage\n")
    v6_default = (
        "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
        "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlan0\n"
    )
    v6_unreachable = (
        "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n"
    )
    assert lp.has_default_route_v6(v6_default) is True
    assert lp.has_default_route_v6(v6_unreachable) is False


def test_mimeapps_sections() -> None:
    text = """[Added Associations]
x-scheme-handler/http=chromium.desktop;
[Default Applications]
x-scheme-handler/http=firefox-esr.desktop;chromium.desktop
x-scheme-handler/http=ignored-duplicate.desktop
text/html = firefox-esr.desktop ;
"""
    defaults, added = lp.parse_mimeapps(text)
    assert defaults["x-scheme-handler/http"] == ["firefox-esr.desktop", "chromium.desktop"]
    assert defaults["text/html"] == ["firefox-esr.desktop"]
    assert added == {"x-scheme-handler/http": ["chromium.desktop"]}


def test_desktop_entry_and_exec() -> None:
    entry = lp.parse_desktop_entry(
        "[Desktop Entry]\nName=Firefox ESR\nName[ja]=ファイアフォックス\n"
        "Exec=/usr/lib/firefox-esr/firefox-esr %u\n"
        "[Desktop Action new-window]\nName=New Window\nExec=firefox-esr --new-window\n"
    )
    assert entry == {"Name": "Firefox ESR", "Exec": "/usr/lib/firefox-esr/firefox-esr %u"}
    assert lp.exec_program("env MOZ_ENABLE_WAYLAND=1 firefox %u") == "firefox"
    assert lp.exec_program('"/opt/My Browser/browser" --flag %U') == "/opt/My Browser/browser"
    assert lp.exec_program("LANG=C thunderbird %u") == "thunderbird"
    with pytest.raises(Unavailable):
        lp.exec_program("env")
    with pytest.raises(Unavailable):
        lp.exec_program('"unterminated')


def test_package_lists() -> None:
    dpkg = (
        "ii \tbash\t5.2.15-2+b8\tshells\n"
        "ii \tlibc6\t2.36-9\tlibs\n"
        "ii \tpython3.11-dev\t3.11.2-6\tpython\n"
        "rc \tremoved-app\t1.0\tutils\n"
        "ii \tlibreoffice-writer\t4:7.4.7-1\teditors\n"
        "ii \tzlib1g\t1:1.2.13\tlibs\n"
        "ii \tfirefox-esr\t128.3.1esr-1~deb12u1\tweb\n"
    )
    assert lp.parse_dpkg(dpkg) == [
        ("bash", "5.2.15-2+b8"),
        ("libreoffice-writer", "4:7.4.7-1"),  # an application despite the "lib" prefix
        ("firefox-esr", "128.3.1esr-1~deb12u1"),
    ]
    rpm = (
        "bash\t5.2.26-3.fc40\nglibc-devel\t2.39-22.fc40\ngpg-pubkey\tabc-1\n"
        "openssl-libs\t3.2.2-3\nlibX11\t1.8.9-1\nfirefox\t131.0-1\n"
    )
    assert lp.parse_rpm(rpm) == [("bash", "5.2.26-3.fc40"), ("firefox", "131.0-1")]
    assert lp.parse_pacman("bash 5.2.037-1\nlibx11 1.8.10-1\nfirefox 131.0.3-1\n") == [
        ("bash", "5.2.037-1"),
        ("firefox", "131.0.3-1"),
    ]


def test_ufw_conf() -> None:
    assert lp.parse_ufw_conf("# /etc/ufw/ufw.conf\nENABLED=yes\nLOGLEVEL=low\n") is True
    assert lp.parse_ufw_conf("ENABLED=no\n") is False
    with pytest.raises(Unavailable):
        lp.parse_ufw_conf("LOGLEVEL=low\n")


def _nft(*entries: Mapping[str, object]) -> str:
    return json.dumps({"nftables": [{"metainfo": {"version": "1.0.6"}}, *entries]})


def test_nftables_rulesets() -> None:
    input_chain = {"family": "inet", "table": "filter", "name": "input", "type": "filter", "hook": "input"}
    assert lp.nft_ruleset_filters(_nft()) is False
    assert lp.nft_ruleset_filters(_nft({"chain": {**input_chain, "policy": "accept"}})) is False
    assert lp.nft_ruleset_filters(_nft({"chain": {**input_chain, "policy": "drop"}})) is True
    rule = {"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": []}}
    assert lp.nft_ruleset_filters(_nft({"chain": {**input_chain, "policy": "accept"}}, rule)) is True
    nat = {
        "chain": {"family": "ip", "table": "nat", "name": "postrouting", "type": "nat", "hook": "postrouting"}
    }
    forward = {
        "chain": {"family": "ip", "table": "filter", "name": "FORWARD", "type": "filter", "hook": "forward"}
    }
    # Container runtimes fill NAT and FORWARD on hosts without a firewall: not a firewall.
    assert lp.nft_ruleset_filters(_nft(nat, {**forward, "policy": "drop"})) is False
    with pytest.raises(Unavailable):
        lp.nft_ruleset_filters("Error: Operation not permitted")


def test_iptables_save() -> None:
    empty = (
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        "-A FORWARD -j DOCKER-USER\nCOMMIT\n"
    )
    assert lp.iptables_save_filters(empty) is False
    assert lp.iptables_save_filters(empty.replace(":INPUT ACCEPT", ":INPUT DROP")) is True
    assert lp.iptables_save_filters(
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    )
    assert lp.iptables_save_filters("*nat\n:INPUT ACCEPT [0:0]\n-A INPUT -j X\nCOMMIT\n") is False
