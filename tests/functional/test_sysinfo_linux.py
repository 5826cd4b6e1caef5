"""The Linux backend for real, on this machine, checked against independent readings
(platform, os.sysconf, shutil.disk_usage, lscpu, ``ip -j``, dpkg-query).

Items this machine cannot show (no browser, no firewall front-end, no DMI table)
are exercised on small real directory trees under tmp_path: real files, real
desktop entries, real executables and sockets, read by the unchanged probes.
"""

from __future__ import annotations

import ipaddress
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import protocol
from agent.sysinfo import DEFAULT_TIMEOUT_S, KEYS, NORMAL_KEYS, JsonValue, Unavailable, collect, to_report
from agent.sysinfo.common import chassis_name
from agent.sysinfo.linux import LinuxBackend
from madoguchi.cli import main

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the Linux backend runs on Linux"
)


def _unix_listener(path: Path) -> socket.socket:
    if sys.platform == "win32":  # keeps mypy --platform win32 exact; never runs there
        raise RuntimeError("POSIX only")
    else:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(1)
        return server


def _physical_memory() -> int:
    if sys.platform == "win32":
        raise RuntimeError("POSIX only")
    else:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def read(key: str, backend: LinuxBackend | None = None) -> JsonValue:
    """One item straight from the backend (Unavailable propagates)."""
    probe = backend or LinuxBackend(deadline=time.monotonic() + 10)
    return probe.reader(key)()


def read_or_reason(key: str, backend: LinuxBackend | None = None) -> tuple[JsonValue, str | None]:
    try:
        return read(key, backend), None
    except Unavailable as exc:
        return None, exc.reason


def ip_json(*args: str) -> list[dict[str, object]]:
    assert shutil.which("ip"), "iproute2 is needed for the independent reading (scripts/apt-packages.txt)"
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True, timeout=5).stdout
    doc = json.loads(out or "[]")
    assert isinstance(doc, list)
    return doc


@pytest.fixture(scope="module")
def detailed() -> tuple[dict[str, JsonValue], dict[str, str], float]:
    info = collect("detailed")
    return info.data, info.unavailable, info.duration_s


# --- this machine, item by item ---------------------------------------------------------


def test_os_matches_platform_reading() -> None:
    release = platform.freedesktop_os_release()
    assert read("os") == release["NAME"]
    assert (
        read("os_version") == release.get("VERSION") or release.get("VERSION_ID") or release.get("BUILD_ID")
    )


def test_not_windows_items() -> None:
    assert read_or_reason("ie_version") == (None, "not Windows")
    value, reason = read_or_reason("os_service_pack")
    assert value is None
    assert reason is not None
    assert "Linux" in reason


def test_cpu_vendor_matches_lscpu() -> None:
    assert shutil.which("lscpu"), "util-linux's lscpu is needed for the independent reading"
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True, env={"LC_ALL": "C"}).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    vendor_id = fields["Vendor ID"].strip()
    expected = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "ARM": "Arm"}.get(vendor_id, vendor_id)
    assert read("cpu_vendor") == expected


def test_cpu_clock_is_plausible() -> None:
    mhz = read("cpu_clock_mhz")
    assert isinstance(mhz, int)
    assert 200 <= mhz <= 7000
    cpuinfo = Path("/proc/cpuinfo").read_text()
    bogomips = [float(line.split(":")[1]) for line in cpuinfo.splitlines() if line.startswith("bogomips")]
    max_freq = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if max_freq.exists():
        assert mhz == round(int(max_freq.read_text()) / 1000)
    elif bogomips and platform.machine() in ("x86_64", "i686"):
        # x86 kernels calibrate BogoMIPS at twice the TSC clock: an independent figure.
        assert abs(mhz - bogomips[0] / 2) / mhz < 0.1


def test_memory_matches_sysconf() -> None:
    expected = _physical_memory()
    value = read("physical_memory_bytes")
    assert isinstance(value, int)
    assert abs(value - expected) <= expected * 0.01


def test_disk_free_matches_disk_usage() -> None:
    value = read("disk_free_bytes")
    expected = shutil.disk_usage("/").free
    assert isinstance(value, int)
    assert abs(value - expected) < 256 * 2**20  # other tests write files meanwhile


def test_volume_serial_matches_findmnt_or_says_why() -> None:
    value, reason = read_or_reason("disk_volume_serial")
    findmnt = ""
    if shutil.which("findmnt"):
        findmnt = subprocess.run(
            ["findmnt", "-n", "-o", "UUID", "--mountpoint", "/"],
            check=False,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    if findmnt:
        assert value == findmnt
    elif value is None:
        assert reason is not None
        assert "UUID" in reason
    else:  # found through /dev/disk/by-uuid, which findmnt could not see
        assert isinstance(value, str)
        assert (Path("/dev/disk/by-uuid") / value).exists()


def test_device_type_and_firmware() -> None:
    dmi = Path("/sys/class/dmi/id")
    device, device_reason = read_or_reason("device_type")
    maker, maker_reason = read_or_reason("system_manufacturer")
    model, model_reason = read_or_reason("system_model")
    if dmi.exists():
        code = int((dmi / "chassis_type").read_text())
        if code & 0x7F == 2 or code & 0x7F not in range(1, 37):
            assert device is None
            assert device_reason is not None
        else:
            assert device == chassis_name(code)
        assert maker is not None or maker_reason is not None
        assert model is not None or model_reason is not None
        return
    assert maker is None
    assert maker_reason is not None
    assert "DMI" in maker_reason
    assert model is None or Path("/sys/firmware/devicetree/base/model").exists()
    lscpu = subprocess.run(["lscpu"], check=False, capture_output=True, text=True, env={"LC_ALL": "C"}).stdout
    if "Hypervisor vendor:" in lscpu:
        assert device == "Virtual machine"
    else:
        assert device is None


def test_router_present_matches_ip_route() -> None:
    expected = bool(ip_json("route", "show", "default")) or bool(ip_json("-6", "route", "show", "default"))
    assert read("router_present") is expected


def test_mac_addresses_match_ip_link() -> None:
    expected = set()
    for link in ip_json("link"):
        address = str(link.get("address", ""))
        if link.get("link_type") == "ether" and address != "00:00:00:00:00:00":
            expected.add((str(link["ifname"]), address.lower()))
    value = read("mac_addresses")
    assert isinstance(value, list)
    got = {(e["interface"], e["mac"]) for e in value if isinstance(e, dict)}
    assert got == expected or (len(value) == 24 and got <= expected)


def test_ip_addresses_match_ip_addr() -> None:
    expected = set()
    for link in ip_json("addr"):
        infos = link.get("addr_info", [])
        assert isinstance(infos, list)
        for info in infos:
            addr = ipaddress.ip_address(info["local"])
            if addr.is_loopback or (addr.version == 6 and addr.is_link_local):
                continue
            expected.add((str(link["ifname"]), f"{addr}/{info['prefixlen']}"))
    value = read("ip_addresses")
    assert isinstance(value, list)
    got = {(e["interface"], e["address"]) for e in value if isinstance(e, dict)}
    assert got == expected or (len(value) == 24 and got <= expected)


def test_applications_match_dpkg() -> None:
    assert shutil.which("dpkg-query"), "the test machines are Debian: dpkg-query is the independent reading"
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    installed = {package: version for status, package, version in rows if status.strip() == "ii"}
    value = read("applications")
    assert isinstance(value, dict)
    items = value["items"]
    assert isinstance(items, list)
    assert items
    for item in items:
        assert isinstance(item, dict)
        assert installed[str(item["name"])] == item["version"]
    names = {item["name"] for item in items if isinstance(item, dict)}
    assert "bash" in names or value["omitted"]
    assert not any(str(n).startswith("libc6") for n in names)
    total = value["total"]
    assert isinstance(total, int)
    assert len(items) <= total < len(installed)


def test_firewall_and_antivirus_on_this_machine_are_readings_or_reasons() -> None:
    for key in ("firewall", "antivirus"):
        value, reason = read_or_reason(key)
        assert (value is None) != (reason is None)
    firewall, _ = read_or_reason("firewall")
    if firewall is not None:
        assert isinstance(firewall, dict)
        assert set(firewall) == {"enabled", "provider", "profiles"}


# --- real directory trees for what this machine does not have ---------------------------


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def _desktop(data: Path, desktop_id: str, body: str) -> None:
    apps = data / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    (apps / desktop_id).write_text("[Desktop Entry]\nType=Application\n" + body)


@pytest.fixture
def xdg(tmp_path: Path) -> dict[str, str]:
    """An XDG environment with nothing in it yet and only tmp_path/bin on PATH."""
    for name in ("home", "config", "data", "sysconfig", "sysdata", "bin"):
        (tmp_path / name).mkdir()
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_DIRS": str(tmp_path / "sysconfig"),
        "XDG_DATA_DIRS": str(tmp_path / "sysdata"),
        "PATH": str(tmp_path / "bin"),
    }


def test_default_browser_and_mail_from_mimeapps(tmp_path: Path, xdg: dict[str, str]) -> None:
    _script(tmp_path / "bin" / "firefox", 'test "$1" = --version && echo "Mozilla Firefox 128.3.1esr"')
    _script(tmp_path / "bin" / "thunderbird", 'test "$1" = --version && echo "Thunderbird 115.16.0"')
    _desktop(
        tmp_path / "data",
        "firefox-esr.desktop",
        "Name=Firefox ESR\nName[ja]=Firefox ESR (ja)\nExec=firefox %u\n",
    )
    _desktop(tmp_path / "sysdata", "thunderbird.desktop", "Name=Thunderbird\nExec=thunderbird %u\n")
    _desktop(tmp_path / "sysdata", "chromium.desktop", "Name=Chromium\nExec=chromium %U\n")
    (tmp_path / "config" / "mimeapps.list").write_text(
        "[Default Applications]\n"
        "x-scheme-handler/http=not-installed.desktop;firefox-esr.desktop\n"
        "x-scheme-handler/mailto=thunderbird.desktop\n"
    )
    # Lower precedence: must lose to the user's own file.
    (tmp_path / "sysdata" / "applications" / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/http=chromium.desktop\n"
    )
    backend = LinuxBackend(deadline=time.monotonic() + 10, environ=xdg)
    assert read("default_browser", backend) == "Firefox ESR"
    assert read("default_browser_version", backend) == "128.3.1esr"
    assert read("default_mail_client", backend) == "Thunderbird"
    assert read("default_mail_client_version", backend) == "115.16.0"


def test_desktop_specific_list_wins(tmp_path: Path, xdg: dict[str, str]) -> None:
    _desktop(tmp_path / "sysdata", "chromium.desktop", "Name=Chromium\nExec=chromium %U\n")
    _desktop(tmp_path / "sysdata", "org.gnome.Epiphany.desktop", "Name=Web\nExec=epiphany %U\n")
    (tmp_path / "config" / "mimeapps.list").write_text("[Default Applications]\ntext/html=chromium.desktop\n")
    (tmp_path / "config" / "gnome-mimeapps.list").write_text(
        "[Default Applications]\ntext/html=org.gnome.Epiphany.desktop\n"
    )
    backend = LinuxBackend(
        deadline=time.monotonic() + 10, environ={**xdg, "XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}
    )
    assert read("default_browser", backend) == "Web"
    # Epiphany is not on PATH here: no version, and a reason instead of a guess.
    assert read_or_reason("default_browser_version", backend) == (None, "program not found")


def test_unknown_programs_are_never_run(tmp_path: Path, xdg: dict[str, str]) -> None:
    marker = tmp_path / "was-run"
    _script(tmp_path / "bin" / "mybrowser", f'touch "{marker}"; echo "MyBrowser 9.9.9"')
    _desktop(tmp_path / "data", "mybrowser.desktop", "Name=My Browser\nExec=mybrowser %u\n")
    _desktop(
        tmp_path / "data",
        "org.mozilla.firefox.desktop",
        "Name=Firefox\nExec=/usr/bin/flatpak run x\nX-Flatpak=x\n",
    )
    (tmp_path / "config" / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/http=mybrowser.desktop\n"
        "x-scheme-handler/mailto=org.mozilla.firefox.desktop\n"
    )
    backend = LinuxBackend(deadline=time.monotonic() + 10, environ=xdg)
    assert read("default_browser", backend) == "My Browser"
    value, reason = read_or_reason("default_browser_version", backend)
    assert value is None
    assert reason is not None
    assert "version not readable" in reason
    assert not marker.exists()  # it could have opened a window on the customer's screen
    assert read_or_reason("default_mail_client_version", backend) == (
        None,
        "Flatpak application: version not read",
    )


def test_xdg_settings_when_no_mimeapps(tmp_path: Path, xdg: dict[str, str]) -> None:
    _script(
        tmp_path / "bin" / "xdg-settings",
        'case "$*" in\n'
        '  "get default-web-browser") echo chromium.desktop ;;\n'
        '  "get default-url-scheme-handler mailto") echo thunderbird.desktop ;;\n'
        "  *) exit 2 ;;\n"
        "esac",
    )
    _desktop(tmp_path / "sysdata", "chromium.desktop", "Name=Chromium\nExec=chromium %U\n")
    _desktop(tmp_path / "sysdata", "thunderbird.desktop", "Name=Thunderbird\nExec=thunderbird %u\n")
    backend = LinuxBackend(deadline=time.monotonic() + 10, environ=xdg)
    assert read("default_browser", backend) == "Chromium"
    assert read("default_mail_client", backend) == "Thunderbird"


def test_a_hanging_xdg_settings_is_cut_short(tmp_path: Path, xdg: dict[str, str]) -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    _script(tmp_path / "bin" / "xdg-settings", f"exec {sleep} 30")  # a D-Bus call that never answers
    start = time.monotonic()
    backend = LinuxBackend(deadline=start + 0.5, environ=xdg)
    assert read_or_reason("default_browser", backend) == (None, "xdg-settings timed out")
    assert time.monotonic() - start < 1.5  # the deadline, not the script, decided


def test_debian_alternative_when_no_mimeapps(tmp_path: Path, xdg: dict[str, str]) -> None:
    root = tmp_path / "root"
    program = _script(
        root / "usr" / "bin" / "chromium", 'echo "Chromium 120.0.6099.224 built on Debian 12.4"'
    )
    (root / "etc" / "alternatives").mkdir(parents=True)
    (root / "etc" / "alternatives" / "x-www-browser").symlink_to(program)
    backend = LinuxBackend(deadline=time.monotonic() + 10, root=root, environ=xdg)
    assert read("default_browser", backend) == "chromium"
    assert read("default_browser_version", backend) == "120.0.6099.224"
    value, reason = read_or_reason("default_mail_client", backend)
    assert value is None
    assert reason is not None
    assert reason.startswith("no default set")


def test_firewall_front_ends(tmp_path: Path, xdg: dict[str, str]) -> None:
    root = tmp_path / "root"
    backend = LinuxBackend(deadline=time.monotonic() + 10, root=root, environ=xdg)
    assert read_or_reason("firewall", backend) == (
        None,
        "no firewall tool found (firewalld, ufw, nft, iptables)",
    )
    (root / "etc" / "ufw").mkdir(parents=True)
    (root / "etc" / "ufw" / "ufw.conf").write_text("# /etc/ufw/ufw.conf\nENABLED=yes\nLOGLEVEL=low\n")
    assert read("firewall", backend) == {"enabled": True, "provider": "ufw", "profiles": {}}
    (root / "etc" / "ufw" / "ufw.conf").write_text("ENABLED=no\n")
    assert read("firewall", backend) == {"enabled": False, "provider": "ufw", "profiles": {}}
    # nft as an ordinary user: "Operation not permitted", exit 1. ufw off says nothing
    # about nftables rules, so the honest answer is "cannot tell".
    _script(tmp_path / "bin" / "nft", "echo 'Error: Operation not permitted' >&2; exit 1")
    assert read_or_reason("firewall", backend) == (None, "nftables state not readable without admin rights")
    _script(
        tmp_path / "bin" / "nft",
        """echo '{"nftables": [{"chain": {"family": "inet", "table": "filter",
        "name": "input", "type": "filter", "hook": "input", "policy": "drop"}}]}'""",
    )
    assert read("firewall", backend) == {"enabled": True, "provider": "nftables", "profiles": {}}


def test_antivirus_presence_and_clamd_state(tmp_path: Path) -> None:
    root = tmp_path / "r"
    backend = LinuxBackend(deadline=time.monotonic() + 10, root=root)
    value, reason = read_or_reason("antivirus", backend)
    assert value is None
    assert reason is not None
    assert "no known antivirus" in reason
    _script(root / "usr" / "bin" / "clamscan", "exit 0")
    assert read("antivirus", backend) == [{"name": "ClamAV", "state": None, "up_to_date": None}]
    _script(root / "usr" / "sbin" / "clamd", "exit 0")
    assert read("antivirus", backend) == [{"name": "ClamAV", "state": "off", "up_to_date": None}]
    sock_path = root / "run" / "clamav" / "clamd.ctl"
    sock_path.parent.mkdir(parents=True)
    with _unix_listener(sock_path):
        assert read("antivirus", backend) == [{"name": "ClamAV", "state": "on", "up_to_date": None}]
    # The daemon stopped but left its socket file behind: off, not on.
    assert sock_path.exists()
    assert read("antivirus", backend) == [{"name": "ClamAV", "state": "off", "up_to_date": None}]


# --- the whole collection ---------------------------------------------------------------


def test_detailed_collection_is_quick_and_complete(
    detailed: tuple[dict[str, JsonValue], dict[str, str], float],
) -> None:
    data, unavailable, duration = detailed
    assert tuple(data) == KEYS
    assert duration < DEFAULT_TIMEOUT_S
    for key in KEYS:
        assert (data[key] is None) == (key in unavailable), key
    # What any Linux machine has: a real reading, never null.
    for key in (
        "os",
        "cpu_vendor",
        "physical_memory_bytes",
        "disk_free_bytes",
        "mac_addresses",
        "ip_addresses",
    ):
        assert data[key] is not None, unavailable.get(key)
    assert unavailable["ie_version"] == "not Windows"


def test_no_personal_data_in_a_real_collection(
    detailed: tuple[dict[str, JsonValue], dict[str, str], float],
) -> None:
    data, unavailable, _ = detailed
    text = json.dumps([data, unavailable], ensure_ascii=False)
    home = os.path.expanduser("~")
    if home not in ("/", "/root"):
        assert home not in text
    host = socket.gethostname()
    if len(host) >= 4 and host != "localhost":
        assert host not in text


def test_report_encodes_within_the_wire_limit(
    detailed: tuple[dict[str, JsonValue], dict[str, str], float],
) -> None:
    data, unavailable, _ = detailed
    from agent.sysinfo import SysInfo

    report = to_report(SysInfo("detailed", data, unavailable))
    encoded = protocol.encode(report)
    assert len(encoded.encode()) <= protocol.MAX_MESSAGE_BYTES
    assert protocol.decode_guidance(encoded) == report


def test_a_hanging_real_probe_does_not_hold_up_real_readings() -> None:
    class HangingFirewall(LinuxBackend):
        def read_firewall(self) -> JsonValue:
            # Like a firewall-cmd waiting forever on a dead D-Bus.
            return self.run(["sleep", "60"], what="firewall-cmd")

    start = time.monotonic()
    info = collect("detailed", timeout_per_item=1.0, backend=HangingFirewall())
    assert time.monotonic() - start < 2.0
    assert info.data["firewall"] is None
    assert info.unavailable["firewall"] in ("firewall-cmd timed out", "timed out after 1 s")
    assert info.data["os"] == platform.freedesktop_os_release()["NAME"]


# --- the command ------------------------------------------------------------------------


def test_cli_json_has_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sysinfo", "--json"]) == 0
    message = json.loads(capsys.readouterr().out)
    assert message["type"] == "sysinfo"
    assert message["scope"] == "detailed"
    assert list(message["data"]) == list(KEYS)
    assert {k for k, v in message["data"].items() if v is None} == set(message["unavailable"])
    # It is exactly a valid wire message.
    assert isinstance(protocol.decode_guidance(json.dumps(message)), protocol.SysInfoReport)


def test_cli_normal_scope_in_a_fresh_process() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "madoguchi", "sysinfo", "--scope", "normal", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert tuple(json.loads(out)["data"]) == NORMAL_KEYS


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sysinfo", "--lang", "ja"]) == 0
    out = capsys.readouterr().out
    assert "インストール済みアプリケーション" in out
    assert "IEバージョン" in out
    assert "unavailable: not Windows" in out
    assert "detailed scope" in out
