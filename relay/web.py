"""The customer's pages, served by the relay: the start page and the browser normal mode.

``GET /`` is the start page, ``GET /share`` the normal mode (通常版, R7), ``/static/...``
their scripts and styles (``web/static`` in the source tree, or ``web_dir``). The pages
talk to the relay they came from (``/api/terms``, ``/ws/agent``), so every response of
the relay carries headers that keep them to that: a Content-Security-Policy allowing
scripts, styles, images and connections from this origin only (no inline script, no
third party), no framing, no referrer, no sniffing, and a Permissions-Policy that grants
screen capture to this origin and nothing else (no camera, microphone, location).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

__all__ = ["SECURITY_HEADERS", "add_web_routes", "default_web_dir"]

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


def default_web_dir() -> Path:
    """``web/static`` beside the ``relay`` package in the source tree."""
    return Path(__file__).resolve().parent.parent / "web" / "static"


def add_web_routes(app: web.Application, web_dir: Path | None) -> None:
    """The pages and their static files, and the security headers on every response."""
    root = (web_dir or default_web_dir()).resolve()
    app.on_response_prepare.append(_add_headers)
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


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
