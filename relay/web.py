"""The customer's pages, served by the relay: the start page and the browser normal mode.

``GET /`` is the start page, ``GET /share`` the normal mode (通常版, R7), ``/static/...``
their scripts and styles (``web/static`` in the source tree, or ``web_dir``). The
administrator's branding comes from the config's ``[site]`` table, the company name and
colour as last changed in the admin web (relay/settings.py): ``GET /api/site``
(company name, phone, hours, and the packaged agent's name, size and SHA-256),
``GET /site/brand.css`` (the colour), ``GET /site/logo`` and ``GET /download/agent``
(the packaged agent, 詳細版). The pages
talk to the relay they came from (``/api/terms``, ``/ws/agent``), so every response of
the relay carries headers that keep them to that: a Content-Security-Policy allowing
scripts, styles, images and connections from this origin only (no inline script, no
third party), no framing, no referrer, no sniffing, and a Permissions-Policy that grants
screen capture to this origin and nothing else (no camera, microphone, location).

Co-browsing (docs/cobrowse.md): ``GET /api/cobrowse/config?site_key=K`` gives the
``<script>`` tag's configuration (shareable URL patterns, mask, block and software-keyboard
selectors, as last changed in the admin web, and the branding) to pages of the relay's own
origin and of ``[cobrowse] allowed_origins`` (:func:`origin_allowed`, also checked on the
websockets), ``/vendor/rrweb-record.js`` is the pinned
``@rrweb/record`` from ``web/node_modules``, and with ``demo_site`` the demo bank
(``web/demo/bank``) is served at ``/demo/bank/`` with a policy that lets it frame its own
pages. The scripts and the config may be loaded by another origin (the bank's site), so
they carry ``Cross-Origin-Resource-Policy: cross-origin`` and CORS ``*``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from .config import RelayConfig
from .settings import Settings

__all__ = [
    "DEMO_CSP",
    "HSTS",
    "SECURITY_HEADERS",
    "Download",
    "SettingsOf",
    "add_web_routes",
    "cobrowse_config_body",
    "default_web_dir",
    "describe_download",
    "origin_allowed",
]

SettingsOf = Callable[[web.Request], Settings]
"""The relay's current settings (TOML values as last changed in the admin web)."""

logger = logging.getLogger(__name__)

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""No inline script or style, nothing from elsewhere; ``connect-src 'self'`` covers the
relay's own ws(s):// (CSP Level 3, every current browser)."""

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": (
        "display-capture=(self), camera=(), microphone=(), geolocation=(), usb=(), payment=()"
    ),
}
"""Added to every relay response (the API's too: they are harmless there and keep a
JSON error from ever rendering as a page)."""

_PAGES = {"/": "index.html", "/share": "share.html"}

DEMO_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'") + "; frame-src 'self'"
"""The demo bank frames its own inquiry form (a same-origin iframe), nothing else."""

_CROSS_ORIGIN_PREFIXES = ("/static/js/", "/static/css/cobrowse", "/vendor/", "/api/cobrowse/")
"""What a bank's pages on another origin load from the relay: the co-browse script and its config."""

RRWEB_RECORD = Path("node_modules") / "@rrweb" / "record" / "dist" / "record.js"
"""The pinned ``@rrweb/record`` ES module (web/package.json), below ``web/``."""


def default_web_dir() -> Path:
    """``web/static`` beside the ``relay`` package in the source tree."""
    return Path(__file__).resolve().parent.parent / "web" / "static"


@dataclasses.dataclass(frozen=True)
class Download:
    """The packaged agent as the start page describes it."""

    path: Path
    size_bytes: int
    sha256: str


def describe_download(path: Path | None) -> Download | None:
    """Size and SHA-256 of the configured agent build, read once when the relay starts."""
    if path is None:
        return None
    try:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return Download(path=path, size_bytes=path.stat().st_size, sha256=digest.hexdigest())
    except OSError as exc:
        logger.warning("agent download %s: cannot be read (%s); the start page offers none", path, exc)
        return None


def add_web_routes(app: web.Application, config: RelayConfig, settings_of: SettingsOf) -> None:
    """The pages and their static files, the site's branding, and the security headers everywhere."""
    root = (config.web_dir or default_web_dir()).resolve()
    app.on_response_prepare.append(_add_headers)
    download = describe_download(config.agent_download)
    app.router.add_get("/api/site", _site_info(config, download, settings_of))
    app.router.add_get("/site/brand.css", _brand_css(settings_of))
    if config.site_logo is not None:
        app.router.add_get("/site/logo", _logo(config.site_logo))
    if download is not None:
        app.router.add_get("/download/agent", _download(download))
    app.router.add_get("/api/cobrowse/config", _cobrowse_config(config, settings_of))
    record = root.parent / RRWEB_RECORD
    if record.is_file():
        app.router.add_get("/vendor/rrweb-record.js", _script(record))
    else:
        logger.warning("co-browsing: %s is missing (npm ci in web/); no page can be shared", record)
    demo = root.parent / "demo" / "bank"
    if config.cobrowse_demo_site and (demo / "index.html").is_file():
        app.router.add_get("/demo/bank/", _page(demo / "index.html"))
        app.router.add_static("/demo/bank/", demo.resolve(), follow_symlinks=False, append_version=False)
    if not (root / "index.html").is_file():
        logger.warning("customer pages: none in %s; / and /share answer 404", root)
        return
    for path, name in _PAGES.items():
        app.router.add_get(path, _page(root / name))
    # aiohttp's static route refuses paths outside the folder and never lists it.
    app.router.add_static("/static/", root, follow_symlinks=False, append_version=False)


def _page(file: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        # HTML is small and must reflect the current scripts: no caching of the page itself.
        headers = {"Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8"}
        return web.FileResponse(file, headers=headers)

    return handler


def _script(file: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"}
        return web.FileResponse(file, headers=headers)

    return handler


def cobrowse_config_body(settings: Settings) -> dict[str, Any]:
    """What the co-browse script is told: the site's sharing rules and the launcher's branding."""
    brand = settings.branding()
    return {
        **settings.cobrowse_rules(),
        "brand": {"company_name": brand.company_name, "colour": _colour(brand.brand_colour)},
    }


def _host_port(netloc: str) -> tuple[str, str | None]:
    """``host[:port]`` (IPv6 in brackets) split; no port is None."""
    host, colon, port = netloc.rpartition(":")
    if not colon or "]" in port:
        return netloc, None
    return host, port


def origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """Whether a browser page of this request's ``Origin`` may use the relay's co-browse API.

    No ``Origin`` (the agent, the console, a script) and the relay's own origin (its
    ``Host``, as the reverse proxy passes it on) are always allowed; any other origin only
    when it is one of ``allowed`` (``[cobrowse] allowed_origins``). A ``Host`` without a port
    (nginx's ``$host``) matches its host name on any port."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.strip().lower()
    if origin in allowed:
        return True
    scheme, sep, netloc = origin.partition("://")
    if scheme not in ("http", "https") or not sep:
        return False  # "null" (a sandboxed frame, a file) and anything else
    host, port = _host_port(netloc)
    relay_host, relay_port = _host_port(request.host.lower())
    if relay_port is None:
        return bool(host) and host == relay_host
    return bool(host) and (host, port or ("443" if scheme == "https" else "80")) == (relay_host, relay_port)


_PER_ORIGIN = {"Cache-Control": "no-store", "Vary": "Origin"}
"""The answer depends on the page's origin and on the admin's latest rules: never cached."""


def _cobrowse_config(
    config: RelayConfig, settings_of: SettingsOf
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        key = request.query.get("site_key", "")
        if not config.cobrowse_site_key or not hmac.compare_digest(
            key.encode(), config.cobrowse_site_key.encode()
        ):
            return web.json_response({"error": "unknown_site_key"}, status=404)
        if not origin_allowed(request, config.cobrowse_allowed_origins):
            # Readable by the page (CORS *), so its script can say why co-browsing is off.
            origin = request.headers.get("Origin", "")
            logger.info("co-browse config: origin %r refused (not in [cobrowse] allowed_origins)", origin)
            body = {"error": "origin_not_allowed", "origin": origin}
            return web.json_response(body, status=403, headers=_PER_ORIGIN)
        return web.json_response(cobrowse_config_body(settings_of(request)), headers=_PER_ORIGIN)

    return handler


def _site_info(
    config: RelayConfig, download: Download | None, settings_of: SettingsOf
) -> Callable[[web.Request], Awaitable[web.Response]]:
    body: dict[str, Any] = {
        "company_name": config.site_company_name,
        "phone": config.site_phone,
        "hours": config.site_hours,
        "logo": config.site_logo is not None,
        "download": None
        if download is None
        else {"name": download.path.name, "size_bytes": download.size_bytes, "sha256": download.sha256},
    }

    async def handler(request: web.Request) -> web.Response:
        name = settings_of(request).branding().company_name  # the admin web may have changed it
        return web.json_response({**body, "company_name": name}, headers={"Cache-Control": "no-cache"})

    return handler


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_BRAND_COLOUR = "#1d4f91"


def _colour(colour: str) -> str:
    if _COLOUR.fullmatch(colour):
        return colour
    logger.warning("site brand_colour %r is not #rrggbb; the default is used", colour)
    return DEFAULT_BRAND_COLOUR


def _brand_css(settings_of: SettingsOf) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        text = f":root {{ --brand: {_colour(settings_of(request).branding().brand_colour)}; }}\n"
        return web.Response(text=text, content_type="text/css", headers={"Cache-Control": "no-cache"})

    return handler


def _file(path: Path) -> web.FileResponse:
    # A missing file answers 404 (aiohttp checks when it opens the file, off the loop).
    return web.FileResponse(path)


def _logo(path: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return _file(path)

    return handler


def _download(download: Download) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = _file(download.path)
        response.headers["Content-Type"] = "application/octet-stream"
        response.headers["Content-Disposition"] = f'attachment; filename="{download.path.name}"'
        return response

    return handler


HSTS = "max-age=31536000"
"""Over TLS only: browsers then refuse plain HTTP to this host for a year (no includeSubDomains:
the relay's host name says nothing about its neighbours)."""


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(_CROSS_ORIGIN_PREFIXES):
        response.headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    elif request.path.startswith("/demo/bank/"):
        response.headers.setdefault("Content-Security-Policy", DEMO_CSP)
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:  # behind a TLS-terminating proxy, the proxy sets it
        response.headers.setdefault("Strict-Transport-Security", HSTS)
