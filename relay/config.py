"""Relay configuration: a frozen dataclass from TOML, environment overrides, safe defaults.

Precedence, lowest first: the embedded defaults below, the TOML file, then
environment variables ``MADOGUCHI_RELAY_<KEY>`` (upper case, for top-level and
``[limits]`` keys alike, e.g. ``MADOGUCHI_RELAY_PORT=9000``,
``MADOGUCHI_RELAY_MAX_SESSIONS=20``). ``ice_servers`` can be overridden with a JSON
list in ``MADOGUCHI_RELAY_ICE_SERVERS``.

Example ``relay.toml``::

    host = "0.0.0.0"
    port = 8765
    data_dir = "/var/lib/madoguchi"
    code_ttl_s = 600
    # database = "postgresql://madoguchi:…@db.internal/madoguchi"  # several nodes; default SQLite
    store = "memory"           # or "redis://redis.internal:6379/0" for several relay nodes

    [limits]
    max_sessions = 50

    [[ice_servers]]
    urls = ["turn:turn.example.com:3478?transport=udp"]
    turn_rest_secret = "..."   # coturn use-auth-secret: per-session credentials

    [terms]
    ja = "..."
    en = "..."

    [site]                     # the customer's pages (relay/web.py)
    company_name = "Example Securities"
    phone = "0120-000-000"
    hours = "9:00-17:00 (weekdays)"
    agent_download = "/srv/madoguchi/madoguchi-agent.exe"

    [cobrowse]                 # co-browsing of the company's own site (docs/cobrowse.md)
    site_key = "bank-web"      # the key in the site's <script> tag; empty: co-browsing off
    allowed_origins = ["https://www.bank.example"]  # the site's origins (the relay's own is always allowed)
    shareable = ["/", "/account/*"]       # path patterns (* = any characters); the rest never
    mask_selectors = [".balance-detail"]  # text masked with a fixed-length mask
    block_selectors = ["#ads"]            # shown to the operator as a grey box
    keyboard_selectors = [".soft-keyboard"]  # recording stops while one is visible
    demo_site = false          # serve the demo bank at /demo/bank/ (tests and the demo)

The defaults are safe for a single machine: loopback only, no public STUN (nothing
leaves the LAN unless an admin configures it), state in memory, SQLite in a data
directory under the user's home.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "ConfigError",
    "IceServerConfig",
    "Limits",
    "RelayConfig",
    "default_data_dir",
    "load_config",
    "with_overrides",
    "check_origin",
]

ENV_PREFIX = "MADOGUCHI_RELAY_"

DEFAULT_TERMS_JA = (
    "画面共有サービス利用規約\n\n"
    "1. 本サービスは、お電話でのサポート中に限り、"
    "オペレーターがお客さまの画面を見て操作方法をご案内するためのものです。\n"
    "2. オペレーターはお客さまのパソコンを操作できません。"
    "すべての操作はお客さまご自身で行っていただきます。\n"
    "3. 共有を開始する前に、個人的な文書やメールなど、見られたくない画面を閉じてください。\n"
    "4. 共有中の画面は録画・保存しません。取得したシステム情報はサポートの目的にのみ利用します。\n"
    "5. 共有中にパスワードを入力した場合は、終了後にパスワードを変更してください。\n"
    "6. 共有はいつでも「停止」ボタンで終了できます。"
)
DEFAULT_TERMS_EN = (
    "Screen sharing terms of use\n\n"
    "1. This service lets an operator see your screen to guide you, only while you are on a support call.\n"
    "2. The operator cannot control your computer. You perform every operation yourself.\n"
    "3. Before sharing starts, close personal documents, mail and anything you do not want to be seen.\n"
    "4. Your screen is never recorded or stored. System information is used for support only.\n"
    "5. If you type a password while sharing, change it after the session.\n"
    "6. You can stop sharing at any time with the Stop button."
)


class ConfigError(ValueError):
    """A configuration file or environment override is invalid; the message says which key."""


def default_data_dir() -> Path:
    """Per-user data directory: ``$XDG_DATA_HOME/madoguchi/relay`` or ``~/.local/share/...``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "madoguchi" / "relay"


@dataclasses.dataclass(frozen=True, kw_only=True)
class IceServerConfig:
    """One STUN/TURN server handed to both peers in ``session_start``.

    With ``turn_rest_secret`` set (coturn ``use-auth-secret``), the relay mints
    time-limited credentials per session instead of handing out a static password.
    """

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = dataclasses.field(default=None, repr=False)
    turn_rest_secret: str | None = dataclasses.field(default=None, repr=False)
    turn_rest_ttl_s: int = 3600

    def __post_init__(self) -> None:
        if not self.urls or not all(isinstance(u, str) and u for u in self.urls):
            raise ConfigError("ice_servers[].urls: at least one non-empty URL")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Limits:
    """Every limit the relay enforces; the defaults suit one small call centre."""

    max_live_codes: int = 100
    """Unclaimed codes at once. No more than ``max_sessions``: a customer waiting beyond the
    free session slots cannot be served anyway; and every live code is a target for guesses
    (docs/security.md: 5 guesses per operator, 10 per address, hit at most 4.9 % / 9.6 %)."""
    max_live_codes_per_ip: int = 5
    """Unclaimed agent codes waiting from one address at once, so that one address can never
    take the relay's codes (it would need ``max_live_codes / 5`` = 20 addresses)."""
    max_sessions: int = 100
    """Pending claims plus running sessions at once (capacity, R4)."""
    max_sessions_per_operator: int = 3
    busy_retry_after_s: float = 60.0
    failed_claims_per_operator: int = 5
    failed_claims_window_s: float = 900.0
    lockout_s: float = 900.0
    failed_claims_per_ip: int = 10
    """Several accounts behind one address share these: 10 guesses hit 9.6 % of a full relay."""
    failed_joins_per_ip: int = 5
    """Reverse pairing (R2): customers type 6-digit codes without logging in."""
    registrations_per_ip: int = 10
    """Registrations (churn) per address per window; what an address *holds* is capped by
    ``max_live_codes_per_ip``. 10 a minute is at most 600 codes an hour used up per address."""
    registrations_window_s: float = 60.0
    failed_claims_alarm: int = 50
    """Failed claims relay-wide within ``failed_claims_window_s`` that raise the alarm."""
    login_failures_per_ip: int = 20
    """Failed logins from one address (any usernames) per ``login_window_s``."""
    login_failures_per_user_ip: int = 5
    """Failed logins for one username from one address per ``login_window_s``."""
    login_window_s: float = 900.0
    login_failures_per_user: int = 30
    """Failed logins for one username from all addresses per ``login_user_window_s``; an
    address where that operator logged in recently is exempt, so strangers reaching this
    limit cannot lock staff out at their usual desks."""
    login_user_window_s: float = 3600.0
    login_known_address_s: float = 30 * 86400.0
    """How long an address stays known for an operator after a successful login (in memory)."""
    max_message_bytes: int = 64 * 1024
    max_connections: int = 4096
    """Open TCP connections at once (0: as many as the descriptor limit allows); lowered
    at start to fit ``ulimit -n``, with a warning."""
    max_connections_per_ip: int = 256
    """Open TCP connections from one address (0: no cap; not applied with
    ``trust_forwarded_for``, where every connection comes from the proxy)."""
    http_idle_timeout_s: float = 20.0
    """A connection must finish its TLS handshake and a request's headers within this many
    seconds of opening (or of its previous response), else it is closed."""
    http_body_timeout_s: float = 10.0
    """The body of ``POST /api/login`` must arrive within this time (else 408)."""
    heartbeat_s: float = 20.0
    hello_timeout_s: float = 15.0
    """A new websocket must send its first message within this time."""
    operator_idle_timeout_s: float = 3600.0
    """An authenticated operator websocket with no session and no message is closed after this."""
    account_check_interval_s: float = 5.0
    """How often open operator websockets are checked against the accounts: a disabled
    operator's sockets are closed and their sessions ended within this time."""
    retired_code_memory_s: float = 3600.0
    """How long expired/used codes are remembered to answer expired_code / code_already_used,
    and not handed out again while unused codes remain (relay.code_pool)."""
    max_queued_for_agent: int = 64
    """Signaling messages kept for an agent that is away (resume grace)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RelayConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    database: str = dataclasses.field(default="", repr=False)
    """Accounts, login tokens, audit, settings: empty keeps them in SQLite files in ``data_dir``
    (one node); ``postgresql://user:password@host/db`` shares them between relay nodes
    (relay/database.py). Not in the repr: the URL may carry a password."""
    code_ttl_s: float = 600.0
    allow_timeout_s: float = 60.0
    resume_grace_s: float = 60.0
    """How long a code or session waits for a client whose websocket dropped to ``resume``
    (the agent in any phase, the operator during a session)."""
    token_ttl_s: float = 8 * 3600.0
    """Operator login token lifetime: one shift. Tokens are only needed to open a websocket."""
    tick_interval_s: float = 0.5
    """How often timers (expiry, timeouts) are checked."""
    ice_servers: tuple[IceServerConfig, ...] = ()
    terms_ja: str = DEFAULT_TERMS_JA
    terms_en: str = DEFAULT_TERMS_EN
    trust_forwarded_for: bool = False
    """Take the client IP from X-Forwarded-For (only behind a trusted reverse proxy)."""
    web_dir: Path | None = None
    """The customer's pages (start page, normal mode): ``None`` serves the ``web/static``
    folder next to the ``relay`` package (the source tree); see relay/web.py."""
    site_company_name: str = ""
    """Branding of the customer's pages (TOML table ``[site]``: ``company_name``, ``phone``,
    ``hours``, ``brand_colour``, ``logo``, ``agent_download``); empty shows a neutral page."""
    site_phone: str = ""
    """The call centre's phone number(s), shown where the customer may need to call."""
    site_hours: str = ""
    site_brand_colour: str = "#1d4f91"
    """``#rrggbb``; the pages' header and buttons (white text on it: choose a dark colour)."""
    site_logo: Path | None = None
    """A PNG or SVG shown in the header."""
    agent_download: Path | None = None
    """The packaged agent (``make dist``) offered as 詳細版 on the start page, with its size and SHA-256."""
    admin_idle_timeout_s: float = 900.0
    """An admin web session ends after this long without a request (docs/security.md)."""
    cobrowse_site_key: str = ""
    """The site key of the co-browse ``<script>`` tag (``[cobrowse]`` table); empty turns
    ``/api/cobrowse/config`` off, so no page can start co-browsing."""
    cobrowse_allowed_origins: tuple[str, ...] = ()
    """The origins (``https://www.bank.example``) whose pages may load the co-browse script's
    config and open ``/ws/agent``; a browser's websocket from any other origin is refused
    (the relay's own pages are always allowed). Empty: only the relay's own origin."""
    cobrowse_shareable: tuple[str, ...] = ()
    """URL path patterns (``*`` matches anything) of the pages that may be shared; every
    other page is never sent (R13). Empty: nothing is shared."""
    cobrowse_mask_selectors: tuple[str, ...] = ()
    """CSS selectors whose text is masked (fixed length) in the customer's browser."""
    cobrowse_block_selectors: tuple[str, ...] = ()
    """CSS selectors never recorded: the operator sees a grey box of their size."""
    cobrowse_keyboard_selectors: tuple[str, ...] = ()
    """CSS selectors of the site's software keyboards: recording stops while one is visible (R12)."""
    cobrowse_demo_site: bool = False
    """Serve the demo bank (``web/demo/bank``) at ``/demo/bank/``: the demo and the tests."""
    store: str = "memory"
    """Where live state (codes, pairings, rate limits, lockouts) is kept: ``memory`` (one
    node, the default) or ``redis://host:port/db`` shared by several relay nodes
    (relay/redis_store.py; docs/operations.md, "Several nodes: live state in Redis")."""
    node_ttl_s: float = 10.0
    """With a shared store: a node that has not refreshed its liveness key for this long is
    taken for dead, and its clients' resume grace starts (relay/cluster.py)."""
    limits: Limits = dataclasses.field(default_factory=Limits)

    def __post_init__(self) -> None:
        if self.store != "memory" and not self.store.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError('store: "memory" or a redis:// (rediss://, unix://) URL')
        if self.node_ttl_s <= 0:
            raise ConfigError("node_ttl_s: must be positive")

    @property
    def accounts_db(self) -> Path:
        return self.data_dir / "accounts.sqlite3"

    @property
    def audit_db(self) -> Path:
        return self.data_dir / "audit.sqlite3"

    @property
    def settings_db(self) -> Path:
        """Settings changed in the admin web, with their history (relay/settings.py)."""
        return self.data_dir / "settings.sqlite3"

    def terms(self, lang: str) -> str:
        return self.terms_en if lang == "en" else self.terms_ja


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> RelayConfig:
    """Build a config: defaults < TOML file < environment < keyword ``overrides``."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    terms = raw.pop("terms", None)
    if terms is not None:
        if not isinstance(terms, dict):
            raise ConfigError("terms: must be a table with ja/en")
        for lang in ("ja", "en"):
            if lang in terms:
                raw[f"terms_{lang}"] = terms[lang]
    site = raw.pop("site", None)
    if site is not None:
        if not isinstance(site, dict):
            raise ConfigError("site: must be a table")
        for key, value in site.items():
            raw[key if key == "agent_download" else f"site_{key}"] = value
    cobrowse = raw.pop("cobrowse", None)
    if cobrowse is not None:
        if not isinstance(cobrowse, dict):
            raise ConfigError("cobrowse: must be a table")
        for key, value in cobrowse.items():
            raw[f"cobrowse_{key}"] = value
    limits_raw = raw.pop("limits", {})
    if not isinstance(limits_raw, dict):
        raise ConfigError("limits: must be a table")
    _apply_env(raw, limits_raw, os.environ if env is None else env)
    for key, value in overrides.items():
        if key == "limits" and isinstance(value, Limits):
            limits_raw.update({f.name: getattr(value, f.name) for f in dataclasses.fields(Limits)})
        elif key in _LIMIT_FIELDS:
            limits_raw[key] = value
        else:
            raw[key] = value
    top = {k: _coerce(RelayConfig, k, v) for k, v in raw.items()}
    top["limits"] = Limits(**{k: _coerce(Limits, k, v) for k, v in limits_raw.items()})
    return RelayConfig(**top)


def check_origin(value: str) -> str:
    """A web origin as a browser sends it: ``scheme://host[:port]``, nothing after; lower case."""
    text = value.strip().lower()
    scheme, sep, rest = text.partition("://")
    if scheme not in ("http", "https") or not sep or not rest or any(c in rest for c in "/?#@ \t"):
        raise ConfigError(f"{value!r}: an origin is scheme://host[:port] (https://www.bank.example)")
    return text


def with_overrides(config: RelayConfig, overrides: Mapping[str, Any]) -> RelayConfig:
    """``config`` with some keys replaced, checked and converted as if read from the file.

    Keys of :class:`Limits` go into ``limits``; ``ice_servers`` may be given as the
    file's tables (dicts) or as :class:`IceServerConfig` objects.
    """
    limits = {k: _coerce(Limits, k, v) for k, v in overrides.items() if k in _LIMIT_FIELDS}
    top = {k: _coerce(RelayConfig, k, v) for k, v in overrides.items() if k not in _LIMIT_FIELDS}
    return dataclasses.replace(config, limits=dataclasses.replace(config.limits, **limits), **top)


_TOP_FIELDS = {f.name for f in dataclasses.fields(RelayConfig)} - {"limits"}
_LIMIT_FIELDS = {f.name for f in dataclasses.fields(Limits)}


def _apply_env(raw: dict[str, Any], limits_raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key == "ice_servers":
            try:
                raw[key] = json.loads(value)
            except ValueError:
                raise ConfigError(f"{name}: must be a JSON list of ice server objects") from None
        elif key in _TOP_FIELDS:
            raw[key] = value
        elif key in _LIMIT_FIELDS:
            limits_raw[key] = value
        else:
            raise ConfigError(f"{name}: unknown setting")


def _coerce(cls: type, key: str, value: Any) -> Any:
    """Check and convert one value to the field's type (env values arrive as strings)."""
    hints = typing.get_type_hints(cls)
    if key not in hints or key == "limits":
        section = "limits." if cls is Limits else ""
        raise ConfigError(f"{section}{key}: unknown setting")
    tp = hints[key]
    try:
        return _convert(tp, value, key)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(inner, value, key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{key}: must be true or false")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: must be an integer")
        result = int(value)
        if result < 0:
            raise ConfigError(f"{key}: must not be negative")
        return result
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: must be a number")
        number = float(value)
        if not number >= 0 or number == float("inf"):
            raise ConfigError(f"{key}: must be a finite, non-negative number")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: must be a string")
        return value
    if tp is Path:
        return Path(value).expanduser()
    if origin is tuple and typing.get_args(tp)[0] is str:  # cobrowse selectors and patterns
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{key}: must be a list of non-empty strings")
        if key == "cobrowse_allowed_origins":
            return tuple(check_origin(v) for v in value)
        return tuple(value)
    if origin is tuple:  # ice_servers
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: must be a list")
        return tuple(_ice_server(v, f"{key}[{i}]") for i, v in enumerate(value))
    raise ConfigError(f"{key}: unsupported type")  # a bug here, not in the file


def _ice_server(value: Any, where: str) -> IceServerConfig:
    if isinstance(value, IceServerConfig):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a table")
    urls = value.get("urls")
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list):
        raise ConfigError(f"{where}.urls: must be a list of strings")
    unknown = set(value) - {"urls", "username", "credential", "turn_rest_secret", "turn_rest_ttl_s"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    for opt in ("username", "credential", "turn_rest_secret"):
        if value.get(opt) is not None and not isinstance(value[opt], str):
            raise ConfigError(f"{where}.{opt}: must be a string")
    ttl = value.get("turn_rest_ttl_s", 3600)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
        raise ConfigError(f"{where}.turn_rest_ttl_s: must be a positive integer")
    return IceServerConfig(
        urls=tuple(urls),
        username=value.get("username"),
        credential=value.get("credential"),
        turn_rest_secret=value.get("turn_rest_secret"),
        turn_rest_ttl_s=ttl,
    )
