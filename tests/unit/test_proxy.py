"""Choosing the signaling connection's proxy: explicit, environment, Windows registry values.

The Windows cases are ``reg query`` listings of ``HKCU\\...\\Internet Settings`` in
``tests/data/windows_proxy`` (the format Windows prints, with the values Internet
Options writes: one proxy for all protocols, one per protocol, a PAC script only, none).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from client_core.proxy import (
    DIRECT,
    ProxyRule,
    bypassed,
    parse_windows_settings,
    redact,
    resolve_proxy,
    rule_from_environment,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "windows_proxy"


def reg_query(name: str) -> dict[str, object]:
    """The values of a ``reg query`` listing, typed as winreg returns them (DWORD -> int)."""
    values: dict[str, object] = {}
    for line in (DATA / f"{name}.txt").read_text().splitlines():
        if not line.startswith("    "):
            continue
        value_name, kind, *data = line.strip().split("    ")
        text = data[0] if data else ""
        values[value_name] = int(text, 16) if kind == "REG_DWORD" else text
    return values


def test_one_proxy_for_all_protocols_with_its_exceptions() -> None:
    rule = parse_windows_settings(reg_query("single-proxy"))
    assert rule == ProxyRule(
        https="http://proxy.bank.example:8080",
        http="http://proxy.bank.example:8080",
        bypass=("*.bank.local", "10.*", "192.168.0.0/16", "<local>"),
        source="windows",
    )
    assert rule.proxy_for("wss://relay.madoguchi.example/ws/agent") == "http://proxy.bank.example:8080"
    assert rule.proxy_for("https://relay.bank.local") is None
    assert rule.proxy_for("https://10.1.2.3") is None
    assert rule.proxy_for("https://192.168.7.7:8443") is None
    assert rule.proxy_for("https://relayhost") is None  # <local>: a name without a dot
    assert rule.proxy_for("https://172.16.0.1") == "http://proxy.bank.example:8080"


def test_per_protocol_servers_take_the_https_one_for_wss() -> None:
    rule = parse_windows_settings(reg_query("per-protocol"))
    assert rule is not None
    assert rule.https == "http://secureproxy.corp.example:8443"
    assert rule.http == "http://webproxy.corp.example:3128"
    assert rule.proxy_for("wss://relay.example/ws/operator") == "http://secureproxy.corp.example:8443"
    assert rule.proxy_for("ws://relay.example/ws/operator") == "http://webproxy.corp.example:3128"
    assert rule.proxy_for("https://intranet.corp.example/x") is None


def test_a_pac_script_alone_is_reported_not_guessed(caplog: pytest.LogCaptureFixture) -> None:
    rule = parse_windows_settings(reg_query("pac-only"))
    assert rule == ProxyRule(pac_url="http://wpad.corp.example/proxy.pac", source="windows")
    # ProxyEnable 0: the stale ProxyServer is not used.
    assert resolve_proxy("wss://relay.example/ws/agent", env={}, system=rule) is None
    assert "proxy script (http://wpad.corp.example/proxy.pac)" in caplog.text
    assert "--proxy" in caplog.text


def test_proxy_disabled_is_direct() -> None:
    assert parse_windows_settings(reg_query("direct")) is None
    assert parse_windows_settings({}) is None


def test_environment_variables() -> None:
    env = {
        "HTTPS_PROXY": "http://lab:s3cret@proxy.example:3128",
        "http_proxy": "proxy.example:8080",
        "NO_PROXY": "localhost,.internal.example,relay-direct.example:443,10.0.0.0/8",
    }
    rule = rule_from_environment(env)
    assert rule is not None
    assert rule.https == "http://lab:s3cret@proxy.example:3128"
    assert rule.http == "http://proxy.example:8080"
    assert resolve_proxy("wss://relay.example/ws/agent", env=env) == "http://lab:s3cret@proxy.example:3128"
    for direct in (
        "wss://a.internal.example/ws/agent",
        "wss://internal.example/ws/agent",
        "wss://relay-direct.example/ws/agent",
        "wss://10.20.30.40/ws/agent",
        "wss://127.0.0.1:8765/ws/agent",  # this machine: never through a proxy
        "wss://[::1]:8765/ws/agent",
    ):
        assert resolve_proxy(direct, env=env, read_system=False) is None, direct
    assert resolve_proxy("wss://x.example", env={"NO_PROXY": "*", "HTTPS_PROXY": "p:1"}) is None
    assert rule_from_environment({"HTTPS_PROXY": "socks5://s:1080"}) is None  # not something we can use
    assert rule_from_environment({"REQUEST_METHOD": "GET", "HTTP_PROXY": "evil:1"}) is None  # httpoxy


def test_explicit_setting_wins_and_direct_means_none() -> None:
    env = {"HTTPS_PROXY": "http://env-proxy:3128"}
    system = ProxyRule(https="http://system-proxy:8080", source="windows")
    url = "wss://relay.example/ws/agent"
    assert (
        resolve_proxy(url, "http://u:p@explicit:3128", env=env, system=system) == "http://u:p@explicit:3128"
    )
    assert resolve_proxy(url, DIRECT, env=env, system=system) is None
    # Explicit is explicit, even for this machine (automatic settings never proxy it).
    assert resolve_proxy("wss://127.0.0.1:1/ws/agent", "proxy:1", env={}) == "http://proxy:1"
    assert resolve_proxy("wss://127.0.0.1:1/ws/agent", None, env=env) is None
    assert resolve_proxy(url, None, env={"MADOGUCHI_PROXY": "explicit:3128", **env}) == "http://explicit:3128"
    assert (
        resolve_proxy(url, None, env=env, system=system) == "http://env-proxy:3128"
    )  # environment, then system
    assert resolve_proxy(url, None, env={}, system=system) == "http://system-proxy:8080"
    assert resolve_proxy(url, None, env={}, system=None, read_system=False) is None


def test_passwords_stay_out_of_logs() -> None:
    assert redact("http://lab:s3cret@proxy.example:3128") == "http://lab:***@proxy.example:3128"
    assert redact("http://proxy.example:3128") == "http://proxy.example:3128"


def test_bypass_patterns() -> None:
    assert bypassed("relay.example.", ("relay.example",))
    assert not bypassed("notrelay.example", ("relay.example",))
    assert bypassed("RELAY.Example", (".relay.example",))
    assert not bypassed("relay.example", ("<local>",))
    assert bypassed("fe80::1", ("fe80::/10",))
    assert not bypassed("example.com", ("",))
