"""Relay configuration: defaults, TOML, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.config import ConfigError, IceServerConfig, load_config


def test_safe_defaults() -> None:
    config = load_config(env={})
    assert config.host == "127.0.0.1"
    assert config.port == 8765
    assert config.code_ttl_s == 600.0
    assert config.allow_timeout_s == 60.0
    assert config.ice_servers == ()  # no public STUN unless an admin adds one
    assert config.limits.failed_claims_per_operator == 5
    assert config.limits.failed_claims_window_s == 900.0
    assert config.limits.max_message_bytes == 64 * 1024
    assert "利用規約" in config.terms("ja")
    assert "terms" in config.terms("en")


def test_toml_then_env_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(
        """
host = "0.0.0.0"
port = 9000
data_dir = "DATA"
code_ttl_s = 120

[limits]
max_sessions = 7
failed_claims_per_operator = 3

[[ice_servers]]
urls = ["stun:stun.example.org:3478"]

[[ice_servers]]
urls = "turn:turn.example.org:3478"
turn_rest_secret = "abc"

[terms]
en = "Be nice."
""".replace("DATA", str(tmp_path / "d")),
        encoding="utf-8",
    )
    env = {"MADOGUCHI_RELAY_PORT": "9100", "MADOGUCHI_RELAY_MAX_SESSIONS": "9", "OTHER": "x"}
    config = load_config(path, env=env, failed_claims_per_operator=4)
    assert config.host == "0.0.0.0"
    assert config.port == 9100
    assert config.data_dir == tmp_path / "d"
    assert config.code_ttl_s == 120.0
    assert config.limits.max_sessions == 9
    assert config.limits.failed_claims_per_operator == 4
    assert config.ice_servers[0] == IceServerConfig(urls=("stun:stun.example.org:3478",))
    assert config.ice_servers[1].turn_rest_secret == "abc"
    assert "abc" not in repr(config)  # secrets stay out of logs
    assert config.terms("en") == "Be nice."
    assert "利用規約" in config.terms("ja")
    assert config.accounts_db == tmp_path / "d" / "accounts.sqlite3"


def test_env_ice_servers_and_booleans() -> None:
    env = {
        "MADOGUCHI_RELAY_ICE_SERVERS": '[{"urls": ["stun:127.0.0.1:3478"]}]',
        "MADOGUCHI_RELAY_TRUST_FORWARDED_FOR": "yes",
    }
    config = load_config(env=env)
    assert config.ice_servers == (IceServerConfig(urls=("stun:127.0.0.1:3478",)),)
    assert config.trust_forwarded_for is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MADOGUCHI_RELAY_PORT": "eighty"}, "port"),
        ({"MADOGUCHI_RELAY_PORT": "-1"}, "port"),
        ({"MADOGUCHI_RELAY_NO_SUCH_THING": "1"}, "unknown setting"),
        ({"MADOGUCHI_RELAY_CODE_TTL_S": "nan"}, "code_ttl_s"),
        ({"MADOGUCHI_RELAY_TRUST_FORWARDED_FOR": "maybe"}, "true or false"),
        ({"MADOGUCHI_RELAY_ICE_SERVERS": "not json"}, "JSON"),
        ({"MADOGUCHI_RELAY_ICE_SERVERS": '[{"urls": []}]'}, "urls"),
    ],
)
def test_bad_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env=env)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_config(bad, env={})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[limits]\nmax_sesions = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"limits\.max_sesions: unknown setting"):
        load_config(unknown, env={})


def test_connection_and_login_settings_from_toml_and_env(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(
        "[limits]\nhttp_idle_timeout_s = 5\nmax_connections_per_ip = 64\nlogin_failures_per_user = 50\n",
        encoding="utf-8",
    )
    env = {
        "MADOGUCHI_RELAY_HTTP_BODY_TIMEOUT_S": "3",
        "MADOGUCHI_RELAY_MAX_CONNECTIONS": "1000",
        "MADOGUCHI_RELAY_LOGIN_FAILURES_PER_USER_IP": "4",
        "MADOGUCHI_RELAY_ACCOUNT_CHECK_INTERVAL_S": "2.5",
    }
    limits = load_config(path, env=env).limits
    assert limits.http_idle_timeout_s == 5.0
    assert limits.http_body_timeout_s == 3.0
    assert limits.max_connections == 1000
    assert limits.max_connections_per_ip == 64
    assert limits.login_failures_per_user == 50
    assert limits.login_failures_per_user_ip == 4
    assert limits.account_check_interval_s == 2.5
    defaults = load_config(env={}).limits
    assert (defaults.http_idle_timeout_s, defaults.http_body_timeout_s) == (20.0, 10.0)
    assert (defaults.max_connections, defaults.max_connections_per_ip) == (4096, 256)
    assert (defaults.login_failures_per_user_ip, defaults.login_failures_per_ip) == (5, 20)
    assert (defaults.login_failures_per_user, defaults.login_user_window_s) == (30, 3600.0)
