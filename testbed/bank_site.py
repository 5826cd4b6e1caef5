"""The demo bank on its own origin, as a real bank serves its site: not by the relay.

:func:`running_bank_site` serves ``web/demo/bank`` at ``/demo/bank/`` on another port (a
different origin from the relay's), with the co-browse ``<script>`` tag pointing at the
relay and the strict Content-Security-Policy that docs/cobrowse.md tells a site it can keep:
scripts and styles from itself and the relay, connections to the relay only, no inline
script or style, no eval.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from testbed.browser import WEB_DIR

__all__ = ["DEMO_BANK_DIR", "BankSite", "bank_csp", "running_bank_site"]

DEMO_BANK_DIR = WEB_DIR / "demo" / "bank"


def bank_csp(relay_url: str) -> str:
    """The bank's policy: only the relay is added to what the bank allows itself."""
    relay = relay_url.rstrip("/")
    parts = urlsplit(relay)
    socket = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' {relay}",
            f"style-src 'self' {relay}",
            "img-src 'self'",
            f"connect-src {relay} {socket}",
            "frame-src 'self'",
            "frame-ancestors 'self'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


@dataclass
class BankSite:
    url: str
    """``http://127.0.0.1:PORT``: the bank's origin, known before the relay starts (which must allow it)."""
    relay_url: str = ""
    """Where the pages load the script from; set once the relay runs."""


@contextlib.asynccontextmanager
async def running_bank_site() -> AsyncIterator[BankSite]:
    """The demo bank at ``{url}/demo/bank/``, loading ``cobrowse.js`` from ``bank.relay_url``."""
    tag = 'src="/static/js/cobrowse.js"'
    bank = BankSite(url="")

    async def handler(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"] or "index.html"
        path = (DEMO_BANK_DIR / name).resolve()
        if path.parent != DEMO_BANK_DIR.resolve() or not path.is_file():
            raise web.HTTPNotFound()
        headers = {"Content-Security-Policy": bank_csp(bank.relay_url), "Cache-Control": "no-cache"}
        if path.suffix != ".html":
            return web.FileResponse(path, headers=headers)
        page = path.read_text(encoding="utf-8").replace(tag, f'src="{bank.relay_url}/static/js/cobrowse.js"')
        return web.Response(text=page, content_type="text/html", headers=headers)

    app = web.Application()
    app.router.add_get("/demo/bank/{name:[^/]*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        bank.url = f"http://127.0.0.1:{port}"
        yield bank
    finally:
        await runner.cleanup()
