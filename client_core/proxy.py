"""Which HTTP proxy the signaling connection takes, if any.

The agent and the console reach the relay over one websocket (and the console's
``POST /api/login``). Behind a corporate proxy that websocket goes through an HTTP
``CONNECT`` tunnel (aiohttp's ``proxy=``; Basic authentication from the proxy URL's
user name and password). The proxy is chosen, first match wins:

1. an explicit setting (``--proxy URL`` or ``MADOGUCHI_PROXY``; ``direct`` means none);
2. ``HTTPS_PROXY`` / ``HTTP_PROXY`` with ``NO_PROXY`` (the usual environment variables);
3. the system's settings: on Windows the per-user Internet Settings in the registry
   (``ProxyEnable``, ``ProxyServer``, ``ProxyOverride``, ``AutoConfigURL``), read by
   :mod:`client_core.proxy_windows` behind :func:`system_rule`;
4. none (direct).

Addresses on this machine go direct unless a proxy is set explicitly. A PAC script
(``AutoConfigURL``) is not evaluated: the rule carries its address so that the
caller can say so, and an administrator sets an explicit proxy instead (see
docs/operations.md, "Proxies"). Only Basic authentication is possible: aiohttp has
no NTLM or Kerberos (Negotiate); such a proxy must let the relay's address through
without authentication.

Everything here except :func:`system_rule` is pure: parsers over recorded values.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import ipaddress
import logging
import os
import sys
from argparse import ArgumentParser, Namespace
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DIRECT",
    "ENV_SETTING",
    "ProxyRule",
    "ProxySetting",
    "add_proxy_option",
    "apply_proxy_option",
    "bypassed",
    "parse_windows_settings",
    "redact",
    "resolve_proxy",
    "rule_from_environment",
    "system_rule",
]

logger = logging.getLogger(__name__)

ProxySetting = str | None
"""``None``: automatic (environment, then the system); :data:`DIRECT`: never; else a proxy URL."""

DIRECT: Final = "direct"
ENV_SETTING: Final = "MADOGUCHI_PROXY"


@dataclasses.dataclass(frozen=True)
class ProxyRule:
    """Where to send connections: one proxy per scheme, and the hosts that go direct."""

    https: str | None = None
    """``http://[user:password@]host:port`` for ``https``/``wss`` addresses."""
    http: str | None = None
    """The same for plain ``http``/``ws`` addresses."""
    bypass: tuple[str, ...] = ()
    """Host patterns that go direct: ``*``, ``example.com`` / ``.example.com`` (and its
    subdomains), ``*.corp``/``10.*`` (globs), ``10.0.0.0/8`` (networks), ``<local>``
    (names without a dot, as Windows spells it)."""
    pac_url: str | None = None
    """A PAC script the system would use (``AutoConfigURL``); not evaluated here."""
    source: str = ""
    """``explicit``, ``environment`` or ``windows``: for the log and for messages."""

    def proxy_for(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if bypassed(host, self.bypass):
            return None
        return self.https if parts.scheme in ("https", "wss") else self.http


def _normalise_proxy(value: str) -> str | None:
    """``host:port`` or ``http://host:port/`` -> ``http://host:port``; None for unusable values."""
    value = value.strip()
    if not value:
        return None
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    if parts.scheme != "http" or not parts.hostname:
        # https:// proxies (TLS to the proxy) and socks are not something aiohttp can take here.
        logger.warning("proxy %s ignored: only http:// proxies are supported", redact(value))
        return None
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def redact(proxy_url: str) -> str:
    """The proxy URL without its password, for logs and messages."""
    parts = urlsplit(proxy_url)
    if parts.password is None:
        return proxy_url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bypassed(host: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``host`` goes direct under ``patterns`` (see :attr:`ProxyRule.bypass`)."""
    host = host.lower().rstrip(".").strip("[]")
    if _is_loopback(host):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in patterns:
        pattern = raw.strip().lower()
        if not pattern:
            continue
        if pattern == "*":
            return True
        if pattern == "<local>":
            if address is None and "." not in host:
                return True
            continue
        if "/" in pattern and address is not None:
            try:
                if address in ipaddress.ip_network(pattern, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if any(c in pattern for c in "*?["):
            if fnmatch.fnmatchcase(host, pattern):
                return True
            continue
        if ":" in pattern and address is None and pattern.count(":") == 1:
            pattern = pattern.split(":", 1)[0]  # host:port, as NO_PROXY allows: the port is not checked
        suffix = pattern.lstrip(".")
        if host == suffix or host.endswith("." + suffix):
            return True
    return False


def rule_from_environment(env: Mapping[str, str]) -> ProxyRule | None:
    """``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (either case; lower case wins, as in curl)."""
    proxies: dict[str, str] = {}
    for name in ("https_proxy", "http_proxy", "no_proxy", "all_proxy"):
        value = env.get(name) or env.get(name.upper())
        if value:
            proxies[name.removesuffix("_proxy")] = value
    if "REQUEST_METHOD" in env:
        proxies.pop("http", None)  # CGI's "Proxy:" header trick (httpoxy), as urllib does
    https = _normalise_proxy(proxies.get("https") or proxies.get("all") or "")
    http = _normalise_proxy(proxies.get("http") or proxies.get("all") or "")
    if https is None and http is None:
        return None
    bypass = tuple(p.strip() for p in proxies.get("no", "").split(",") if p.strip())
    return ProxyRule(https=https, http=http, bypass=bypass, source="environment")


def parse_windows_settings(values: Mapping[str, object]) -> ProxyRule | None:
    """The per-user Internet Settings (registry values by name) as a rule, or None for direct.

    ``ProxyServer`` is ``host:port`` for every protocol or ``http=h:p;https=h:p;...``;
    ``ProxyOverride`` is ``;``-separated patterns with ``<local>``; ``ProxyEnable`` a DWORD.
    """
    enabled = values.get("ProxyEnable")
    server = values.get("ProxyServer")
    override = values.get("ProxyOverride")
    pac = values.get("AutoConfigURL")
    pac_url = pac.strip() if isinstance(pac, str) and pac.strip() else None
    https = http = None
    if isinstance(enabled, int) and enabled and isinstance(server, str) and server.strip():
        if "=" in server:
            per_scheme: dict[str, str] = {}
            for entry in server.split(";"):
                scheme, _, address = entry.partition("=")
                if address.strip():
                    per_scheme[scheme.strip().lower()] = address.strip()
            https = _normalise_proxy(per_scheme.get("https") or per_scheme.get("http") or "")
            http = _normalise_proxy(per_scheme.get("http") or "")
        else:
            https = http = _normalise_proxy(server)
    if https is None and http is None and pac_url is None:
        return None
    bypass = tuple(p.strip() for p in override.split(";") if p.strip()) if isinstance(override, str) else ()
    return ProxyRule(https=https, http=http, bypass=bypass, pac_url=pac_url, source="windows")


def system_rule() -> ProxyRule | None:
    """The operating system's proxy settings: the per-OS backend, imported only where it runs.

    Windows reads the registry; elsewhere desktop settings are exported to the
    environment by the session (and read by :func:`rule_from_environment`), so None.
    """
    if sys.platform == "win32":
        from client_core.proxy_windows import read_internet_settings

        try:
            return parse_windows_settings(read_internet_settings())
        except OSError as exc:
            logger.warning("cannot read the system proxy settings: %s", exc)
            return None
    else:
        return None


def resolve_proxy(
    url: str,
    setting: ProxySetting = None,
    *,
    env: Mapping[str, str] | None = None,
    system: ProxyRule | None = None,
    read_system: bool = True,
) -> str | None:
    """The proxy URL for connecting to ``url``, or None to connect directly.

    ``setting``: the explicit choice (None: ``MADOGUCHI_PROXY``, then automatic).
    ``system`` / ``read_system``: the system's rule, given (tests) or read here.
    """
    env = os.environ if env is None else env
    chosen = setting if setting is not None else (env.get(ENV_SETTING) or None)
    host = urlsplit(url).hostname or ""
    if chosen is not None:
        if chosen.strip().lower() == DIRECT:
            return None
        return _normalise_proxy(chosen)  # keeps user:password for Basic authentication
    rule = rule_from_environment(env)
    if rule is None:
        rule = system if system is not None or not read_system else system_rule()
    if rule is None:
        return None
    proxy = rule.proxy_for(url)
    if proxy is None and rule.pac_url is not None and not bypassed(host, rule.bypass):
        logger.warning(
            "the system uses a proxy script (%s) that Madoguchi does not run; connecting directly. "
            "If the relay cannot be reached, set an explicit proxy (--proxy or %s)",
            rule.pac_url,
            ENV_SETTING,
        )
    if proxy is not None:
        logger.info("proxy for %s: %s (%s)", host, redact(proxy), rule.source)
    return proxy


def add_proxy_option(parser: ArgumentParser) -> None:
    """``--proxy URL|direct`` for the programs that talk to the relay."""
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help=(
            "HTTP proxy for the relay connection, http://[user:password@]host:port, or 'direct' "
            f"(default: ${ENV_SETTING}, then HTTPS_PROXY/NO_PROXY, then the system settings)"
        ),
    )


def apply_proxy_option(args: Namespace) -> None:
    """Make ``--proxy`` the explicit setting for every connection this process makes."""
    value = getattr(args, "proxy", None)
    if value:
        os.environ[ENV_SETTING] = value
