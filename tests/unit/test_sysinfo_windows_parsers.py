"""Windows parsers on recorded registry dumps and CIM JSON (tests/data/sysinfo/windows).

Windows cannot run here: these tests are what stands behind the Windows backend,
together with ``mypy --platform win32``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from agent.sysinfo import Unavailable
from agent.sysinfo import windows_parsers as wp
from agent.sysinfo.common import cap_applications

DATA = Path(__file__).resolve().parent.parent / "data" / "sysinfo" / "windows"

CURRENT_VERSION = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
BIOS = r"HKLM\HARDWARE\DESCRIPTION\System\BIOS"
CPU0 = r"HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0"
IE = r"HKLM\SOFTWARE\Microsoft\Internet Explorer"
USER_CHOICE = r"HKCU\Software\Microsoft\Windows\Shell\Associations\UrlAssociations\{}\UserChoice"
FIREWALL_LOCAL = r"HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"
FIREWALL_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall"
UNINSTALL_ROOTS = (
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall",
)

Registry = dict[str, dict[str, object]]


def _data(kind: str, data: object) -> object:
    """Registry data as winreg.EnumValue returns it for the recorded type."""
    if kind in ("REG_SZ", "REG_EXPAND_SZ"):
        assert isinstance(data, str)
        return data
    if kind in ("REG_DWORD", "REG_QWORD"):
        assert isinstance(data, int)
        return data
    if kind == "REG_MULTI_SZ":
        assert isinstance(data, list)
        return data
    assert isinstance(data, str)
    return bytes.fromhex(data)  # REG_BINARY, REG_FULL_RESOURCE_DESCRIPTOR


def load_registry(name: str) -> Registry:
    doc = json.loads((DATA / name).read_text(encoding="utf-8"))
    return {
        path: {value: _data(kind, data) for value, (kind, data) in values.items()}
        for path, values in doc["keys"].items()
    }


def uninstall_entries(registry: Registry) -> list[dict[str, object]]:
    """The values of every direct subkey of the three Uninstall roots."""
    entries = []
    for root in UNINSTALL_ROOTS:
        for path, values in registry.items():
            if path.startswith(root + "\\") and "\\" not in path[len(root) + 1 :]:
                entries.append(values)
    return entries


def load_cim(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture(scope="module")
def win11() -> Registry:
    return load_registry("registry_win11_pro_lenovo_ja.json")


@pytest.fixture(scope="module")
def win10() -> Registry:
    return load_registry("registry_win10_home_diy.json")


@pytest.fixture(scope="module")
def win7() -> Registry:
    return load_registry("registry_win7_sp1.json")


# --- fixtures themselves ---------------------------------------------------------------


def test_cim_fixtures_are_in_windows_powershell_layout() -> None:
    raw = load_cim("cim_network_single.json").decode("utf-8")
    assert "\r\n" in raw
    assert "\n" not in raw.replace("\r\n", "")
    assert '"MACAddress":  "3C:58:C2:9A:1B:7E"' in raw  # two spaces after the colon
    assert load_cim("cim_firewall_none.txt") == b""


# --- OS --------------------------------------------------------------------------------


def test_windows_11_reported_despite_registry_product_name(win11: Registry) -> None:
    assert win11[CURRENT_VERSION]["ProductName"] == "Windows 10 Pro"  # the registry's quirk
    assert wp.os_name(win11[CURRENT_VERSION]) == "Windows 11 Pro"
    assert wp.os_version(win11[CURRENT_VERSION]) == "23H2 (10.0.22631.4460)"


def test_windows_10_home(win10: Registry) -> None:
    assert wp.os_name(win10[CURRENT_VERSION]) == "Windows 10 Home"
    assert wp.os_version(win10[CURRENT_VERSION]) == "22H2 (10.0.19045.5131)"


def test_windows_7_without_modern_values(win7: Registry) -> None:
    assert wp.os_name(win7[CURRENT_VERSION]) == "Windows 7 Professional"
    assert wp.os_version(win7[CURRENT_VERSION]) == "6.1.7601"
    assert wp.os_service_pack(win7[CURRENT_VERSION]) == "Service Pack 1"


def test_no_service_pack_on_windows_10_and_11(win10: Registry, win11: Registry) -> None:
    for registry in (win10, win11):
        with pytest.raises(Unavailable, match="Windows 10 and later"):
            wp.os_service_pack(registry[CURRENT_VERSION])
    with pytest.raises(Unavailable, match="no service pack installed"):
        wp.os_service_pack({"CurrentBuildNumber": "7600", "CSDVersion": ""})


def test_server_names_are_left_alone() -> None:
    values = {"ProductName": "Windows Server 2025 Standard", "CurrentBuildNumber": "26100"}
    assert wp.os_name(values) == "Windows Server 2025 Standard"


def test_os_values_missing_or_mistyped() -> None:
    with pytest.raises(Unavailable):
        wp.os_name({})
    with pytest.raises(Unavailable):
        wp.os_version({"ProductName": "Windows 10 Pro", "CurrentBuildNumber": "rs5"})  # not a number
    # A DWORD where a string is documented is still a number.
    assert wp.os_version({"CurrentBuild": 19045, "CurrentVersion": "6.3"}) == "6.3.19045"


# --- hardware --------------------------------------------------------------------------


def test_cpu(win11: Registry, win10: Registry) -> None:
    assert wp.cpu_vendor(win11[CPU0]) == "Intel"
    assert wp.cpu_clock_mhz(win11[CPU0]) == 2995
    assert wp.cpu_vendor(win10[CPU0]) == "AMD"
    assert wp.cpu_clock_mhz(win10[CPU0]) == 3701
    with pytest.raises(Unavailable):
        wp.cpu_clock_mhz({"~MHz": 0})
    assert wp.cpu_vendor({"VendorIdentifier": "SomeNewVendor"}) == "SomeNewVendor"


def test_lenovo_model_is_the_marketing_name(win11: Registry) -> None:
    assert wp.system_manufacturer(win11[BIOS]) == "LENOVO"
    assert wp.system_model(win11[BIOS]) == "ThinkPad X1 Carbon Gen 9"
    assert win11[BIOS]["SystemProductName"] == "20XWCTO1WW"


def test_unfilled_firmware_is_null_not_a_placeholder(win10: Registry) -> None:
    with pytest.raises(Unavailable, match="placeholder"):
        wp.system_manufacturer(win10[BIOS])
    with pytest.raises(Unavailable, match="placeholder"):
        wp.system_model(win10[BIOS])


def test_device_type_from_chassis_types() -> None:
    assert wp.device_type(wp.parse_cim_json(load_cim("cim_enclosure_laptop.json"))) == "Notebook"
    # Docked: enclosure "Unknown", the laptop, the dock; the laptop is the device.
    assert wp.device_type(wp.parse_cim_json(load_cim("cim_enclosure_docked.json"))) == "Laptop"
    assert wp.device_type(wp.parse_cim_json(load_cim("cim_enclosure_vmware.json"))) == "Other"
    with pytest.raises(Unavailable, match="Unknown"):
        wp.device_type([{"ChassisTypes": [2]}])
    with pytest.raises(Unavailable):
        wp.device_type([])
    assert wp.device_type([{"ChassisTypes": 31}]) == "Convertible"  # scalar instead of array


# --- IE, browser, mail -----------------------------------------------------------------


def test_ie_version_prefers_svc_version(win11: Registry, win10: Registry, win7: Registry) -> None:
    assert win11[IE]["Version"] == "9.11.22621.0"
    assert wp.ie_version(win11[IE]) == "11.1.22621.0"
    assert wp.ie_version(win10[IE]) == "11.789.19041.0"
    assert wp.ie_version(win7[IE]) == "9.0.8112.16421"
    with pytest.raises(Unavailable, match="not installed"):
        wp.ie_version({"svcVersion": "", "MkEnabled": "Yes"})


def test_default_browser_chrome(win11: Registry) -> None:
    progid = wp.user_choice_progid(win11[USER_CHOICE.format("http")])
    assert progid == "ChromeHTML"
    assert wp.app_display_name(progid, win11[rf"HKCR\{progid}\Application"]) == "Google Chrome"
    command = win11[rf"HKCR\{progid}\shell\open\command"][""]
    assert isinstance(command, str)
    assert wp.command_program(command, {}) == r"C:\Program Files\Google\Chrome\Application\chrome.exe"


def test_default_browser_firefox_with_install_hash(win10: Registry) -> None:
    progid = wp.user_choice_progid(win10[USER_CHOICE.format("https")])
    assert progid == "FirefoxURL-308046B0AF4A39CB"
    assert wp.app_display_name(progid, None) == "Mozilla Firefox"
    command = win10[rf"HKCR\{progid}\shell\open\command"][""]
    assert isinstance(command, str)
    assert wp.command_program(command, {}) == r"C:\Program Files\Mozilla Firefox\firefox.exe"


def test_default_mail_clients(win11: Registry, win10: Registry) -> None:
    outlook = wp.user_choice_progid(win11[USER_CHOICE.format("mailto")])
    assert wp.app_display_name(outlook, None) == "Microsoft Outlook"
    command = win11[rf"HKCR\{outlook}\shell\open\command"][""]
    assert isinstance(command, str)
    assert wp.command_program(command, {}).endswith(r"Office16\OUTLOOK.EXE")
    mail_app = wp.user_choice_progid(win10[USER_CHOICE.format("mailto")])
    assert wp.app_display_name(mail_app, win10[rf"HKCR\{mail_app}\Application"]) == "Mail (Windows)"


def test_unknown_progids() -> None:
    indirect = {"ApplicationName": "@{Contoso.App_1.0.0.0_x64__abc?ms-resource://Contoso.App/Resources/Name}"}
    assert wp.app_display_name("AppXabc123", indirect) == "AppXabc123"  # never the raw resource string
    assert wp.app_display_name("ContosoHTML", {"ApplicationName": "Contoso Browser"}) == "Contoso Browser"
    assert wp.app_display_name("ChromeHTMLX", None) == "ChromeHTMLX"  # prefix must end at a separator
    with pytest.raises(Unavailable, match="no default chosen"):
        wp.user_choice_progid({"Hash": "abc="})


def test_command_program_forms() -> None:
    env = {"ProgramFiles": r"C:\Program Files", "SystemRoot": r"C:\WINDOWS"}
    assert (
        wp.command_program(r"C:\PROGRA~1\INTERN~1\iexplore.exe %1", env)
        == r"C:\PROGRA~1\INTERN~1\iexplore.exe"
    )
    assert wp.command_program(r'"%programfiles%\Foo\foo.exe" "%1"', env) == r"C:\Program Files\Foo\foo.exe"
    assert wp.command_program(r"%SystemRoot%\system32\rundll32.exe url.dll", env).endswith("rundll32.exe")
    assert wp.command_program("notepad %1", env) == "notepad"
    with pytest.raises(Unavailable):
        wp.command_program('"C:\\no closing quote', env)


def test_expand_env_leaves_unknown_variables() -> None:
    assert wp.expand_env("%A%\\%b%\\%NOPE%", {"a": "x", "B": "y"}) == "x\\y\\%NOPE%"


def test_volume_serial_and_file_version_formats() -> None:
    assert wp.format_volume_serial(0x1A2B3C4D) == "1A2B-3C4D"
    assert wp.format_volume_serial(0xE8) == "0000-00E8"
    with pytest.raises(Unavailable):
        wp.format_volume_serial(1 << 32)
    assert wp.format_file_version((131 << 16) | 0, (6778 << 16) | 86) == "131.0.6778.86"
    assert wp.version_string_path(0x0411, 0x04B0) == "\\StringFileInfo\\041104b0\\ProductVersion"


# --- applications ----------------------------------------------------------------------


def test_applications_as_apps_and_features_lists_them(win11: Registry) -> None:
    apps = wp.uninstall_applications(uninstall_entries(win11))
    names = sorted({name for name, _ in apps})
    assert names == [
        "7-Zip 23.01 (x64)",
        "Adobe Acrobat (64-bit)",  # trailing space trimmed
        "Google Chrome",
        "HYPER SBI 2",
        "Microsoft 365 Apps for enterprise - ja-jp",
        "Microsoft Edge",
        "Microsoft Edge WebView2 Runtime",
        "Microsoft OneDrive",
        "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33135",
        "Zoom Workplace",
        "e-Taxソフト",
    ]
    assert ("Adobe Acrobat (64-bit)", "24.004.20220") in apps
    capped = cap_applications(apps)
    # WebView2 is registered in both registry views: listed once.
    assert capped["total"] == len(names)
    assert capped["omitted"] == 0


def test_applications_odd_values(win10: Registry) -> None:
    apps = dict(wp.uninstall_applications(uninstall_entries(win10)))
    assert apps["筆ぐるめ 31"] == "31"  # DisplayVersion written as a DWORD
    assert "" not in apps  # empty DisplayName hidden
    assert apps["Steam"] == "2.10.91.91"


# --- firewall --------------------------------------------------------------------------


def _firewall_keys(registry: Registry) -> tuple[Mapping[str, wp.RegValues], Mapping[str, wp.RegValues]]:
    local = {key: registry.get(rf"{FIREWALL_LOCAL}\{key}", {}) for key, _ in wp.FIREWALL_PROFILES.values()}
    policy = {key: registry.get(rf"{FIREWALL_POLICY}\{key}", {}) for _, key in wp.FIREWALL_PROFILES.values()}
    return local, policy


def test_group_policy_overrides_local_firewall_setting(win11: Registry) -> None:
    local, policy = _firewall_keys(win11)
    assert local["DomainProfile"]["EnableFirewall"] == 0
    state = wp.firewall_state(local, policy, wp.parse_cim_json(load_cim("cim_firewall_none.txt")))
    assert state == {
        "enabled": True,
        "provider": "Windows Defender Firewall",
        "profiles": {"domain": True, "private": True, "public": True},
    }


def test_private_profile_switched_off(win10: Registry) -> None:
    local, policy = _firewall_keys(win10)
    state = wp.firewall_state(local, policy, None)  # Security Center unavailable
    assert state["profiles"] == {"domain": True, "private": False, "public": True}
    assert state["enabled"] is True


def test_third_party_firewall_takes_over() -> None:
    local = {"DomainProfile": {"EnableFirewall": 0}, "StandardProfile": {"EnableFirewall": 0}}
    products = wp.parse_cim_json(load_cim("cim_firewall_eset.json"))
    state = wp.firewall_state(local, {}, products)
    assert state["enabled"] is True
    assert state["provider"] == "ESET Firewall"
    assert wp.firewall_state(local, {}, [])["enabled"] is False
    with pytest.raises(Unavailable):
        wp.firewall_state({}, {}, None)


# --- CIM JSON --------------------------------------------------------------------------


def test_cim_single_object_array_and_nothing() -> None:
    single = wp.parse_cim_json(load_cim("cim_antivirus_defender.json"))
    assert single == [{"displayName": "Windows Defender", "productState": 397568}]
    several = wp.parse_cim_json(load_cim("cim_antivirus_trendmicro_ja.json"))
    assert [p["displayName"] for p in several] == ["ウイルスバスター クラウド", "Windows Defender"]
    assert wp.parse_cim_json(load_cim("cim_firewall_none.txt")) == []
    assert wp.parse_cim_json(b"\r\n") == []


def test_cim_value_count_wrapper_and_bom() -> None:
    wrapped = wp.parse_cim_json(load_cim("cim_antivirus_value_count.json"))
    assert [p["displayName"] for p in wrapped] == ["Norton 360", "Windows Defender"]
    with_bom = b"\xef\xbb\xbf" + load_cim("cim_antivirus_defender.json")
    assert wp.parse_cim_json(with_bom) == wp.parse_cim_json(load_cim("cim_antivirus_defender.json"))
    assert wp.parse_cim_json('\ufeff[1, {"a": 2}]') == [{"a": 2}]
    with pytest.raises(Unavailable):
        wp.parse_cim_json(b"Get-CimInstance : Invalid namespace")
    with pytest.raises(Unavailable):
        wp.parse_cim_json(b"42")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (397568, ("on", True)),  # 0x061100 Windows Defender, on, up to date
        (393472, ("off", True)),  # 0x060100 Defender stepped aside for another product
        (397584, ("on", False)),  # 0x061110 on, signatures out of date
        (266240, ("on", True)),  # 0x041000 third-party, on
        (266256, ("on", False)),  # 0x041010
        (262144, ("off", True)),  # 0x040000
        (401664, ("snoozed", True)),  # 0x062100
        (405760, ("expired", True)),  # 0x063100 subscription expired
        (0x064100, (None, True)),  # undocumented state nibble: no guess
    ],
)
def test_product_state_bitfield(state: int, expected: tuple[str | None, bool]) -> None:
    assert wp.decode_product_state(state) == expected


def test_antivirus_products_from_recorded_output() -> None:
    assert wp.security_products(wp.parse_cim_json(load_cim("cim_antivirus_trendmicro_ja.json"))) == [
        {"name": "ウイルスバスター クラウド", "state": "on", "up_to_date": True},
        {"name": "Windows Defender", "state": "off", "up_to_date": True},
    ]
    assert wp.security_products(wp.parse_cim_json(load_cim("cim_antivirus_value_count.json"))) == [
        {"name": "Norton 360", "state": "on", "up_to_date": False},
        {"name": "Windows Defender", "state": "snoozed", "up_to_date": True},
    ]
    odd: list[wp.CimObject] = [
        {"displayName": "X", "productState": "397568"},
        {"displayName": "", "productState": 1},
        {"a": 1},
    ]
    assert wp.security_products(odd) == [{"name": "X", "state": None, "up_to_date": None}]


# --- network ---------------------------------------------------------------------------


def test_network_single_adapter() -> None:
    reading = wp.network_adapters(wp.parse_cim_json(load_cim("cim_network_single.json")), max_entries=24)
    assert reading.router_present is True
    assert reading.macs == [{"interface": "Intel(R) Wi-Fi 6 AX201 160MHz", "mac": "3c:58:c2:9a:1b:7e"}]
    assert reading.addresses == [
        {"interface": "Intel(R) Wi-Fi 6 AX201 160MHz", "address": "192.168.10.23/24"},
        {
            "interface": "Intel(R) Wi-Fi 6 AX201 160MHz",
            "address": "2400:4051:2a0:7f00:8d4c:2a17:61b3:9e05/64",
        },
    ]


def test_network_without_gateway() -> None:
    reading = wp.network_adapters(wp.parse_cim_json(load_cim("cim_network_multi.json")), max_entries=24)
    # null and [""] gateways both mean "none": no router, which is what the operator must see.
    assert reading.router_present is False
    assert [m["mac"] for m in reading.macs if isinstance(m, dict)] == [
        "00:e0:4c:68:02:1a",
        "00:15:5d:c8:4a:01",
        "00:ff:2b:7c:91:3d",
    ]
    addresses = [a["address"] for a in reading.addresses if isinstance(a, dict)]
    assert addresses == ["169.254.87.12/16", "172.27.112.1/20", "10.8.0.6/30"]
    capped = wp.network_adapters(wp.parse_cim_json(load_cim("cim_network_multi.json")), max_entries=2)
    assert len(capped.macs) == 2


# --- command and privacy ---------------------------------------------------------------


def test_batch_script_runs_every_query_once() -> None:
    script = wp.cim_batch_script(3)
    for name, (namespace, cls, _filter, props) in wp.CIM_QUERIES.items():
        assert not any("path" in p.lower() for p in props)
        assert script.count(f"'{wp.CIM_MARKER}{name}'") == 1
        assert f"-Namespace '{namespace}' -ClassName '{cls}'" in script
        assert f"Select-Object -Property {','.join(props)} | ConvertTo-Json" in script
    assert script.count("-OperationTimeoutSec 3 ") == len(wp.CIM_QUERIES)
    assert script.count(f"catch {{ '{wp.CIM_FAILED}' }}") == len(wp.CIM_QUERIES)
    assert script.endswith(f"'{wp.CIM_MARKER}end'")
    assert "-Filter 'IPEnabled = True'" in script
    # Network first: three items wait for it. Security Center, the slowest, last.
    assert list(wp.CIM_QUERIES) == ["network", "enclosure", "antivirus", "firewall"]


def test_batch_output_on_windows_server() -> None:
    sections = wp.split_cim_sections(load_cim("cim_batch_server2022.txt").decode("utf-8"))
    assert sections["antivirus"] is None  # no root/SecurityCenter2 on Server
    assert sections["firewall"] is None
    network = sections["network"]
    assert network is not None
    reading = wp.network_adapters(wp.parse_cim_json(network), max_entries=24)
    assert reading.router_present is True
    assert reading.addresses == [
        {"interface": "Microsoft Hyper-V Network Adapter", "address": "10.20.30.41/24"}
    ]
    enclosure = sections["enclosure"]
    assert enclosure is not None
    assert wp.device_type(wp.parse_cim_json(enclosure)) == "Desktop"  # what Hyper-V guests report


def test_batch_output_cut_at_the_deadline() -> None:
    sections = wp.split_cim_sections(load_cim("cim_batch_cut_at_deadline.txt").decode("utf-8"))
    assert set(sections) == {"network", "enclosure", "antivirus"}  # firewall never finished
    antivirus = sections["antivirus"]
    assert antivirus is not None
    assert wp.security_products(wp.parse_cim_json(antivirus)) == [
        {"name": "Windows Defender", "state": "on", "up_to_date": True}
    ]


def test_batch_output_with_empty_sections() -> None:
    sections = wp.split_cim_sections("\ufeff" + load_cim("cim_batch_no_products.txt").decode("utf-8"))
    assert sections["antivirus"] == ""
    assert sections["firewall"] == ""
    assert wp.parse_cim_json(sections["antivirus"] or "") == []
    assert wp.split_cim_sections("") == {}
    assert wp.split_cim_sections("Get-CimInstance : Access denied\r\n") == {}


def test_no_reading_carries_owner_or_user_paths(win11: Registry) -> None:
    cv = win11[CURRENT_VERSION]
    readings: list[object] = [
        wp.os_name(cv),
        wp.os_version(cv),
        wp.system_model(win11[BIOS]),
        cap_applications(wp.uninstall_applications(uninstall_entries(win11))),
        wp.app_display_name("ChromeHTML", win11[r"HKCR\ChromeHTML\Application"]),
    ]
    text = json.dumps(readings, ensure_ascii=False)
    for canary in ("山田", "太郎", "taro", "サンプル商事", "00330-80000", "AppData", "Users"):
        assert canary not in text
