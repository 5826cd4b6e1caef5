"""The operator's co-browse view, served by the console on the loopback interface (docs/cobrowse.md).

The console owns the aiortc peer, so it receives the customer's ``cobrowse`` data channel;
this module serves the viewer page (``web/viewer`` and the pinned ``@rrweb/replay``) on
``127.0.0.1`` under a one-time secret path, and feeds it over a loopback websocket: rrweb
batches and states from the customer, the operator's pointer back. The viewer's code ships
with the console, never from the relay, so a relay that is not trusted never gets to run
code next to the page content.

    viewer = CobrowseViewer(on_pointer=send_on_guidance_channel)
    url = await viewer.start()        # open it in the operator's browser
    viewer.push_events(events)        # every decoded batch
    viewer.push_state({"type": "cobrowse_state", "paused": True, "reason": "keyboard"})
    await viewer.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from protocol import CobrowsePointer, ProtocolError, decode_guidance, encode

__all__ = ["PACKAGED_DIR", "SOURCE_FILES", "VIEWER_CSP", "CobrowseViewer", "checked_pointer", "viewer_files"]

logger = logging.getLogger(__name__)

_WEB = Path(__file__).resolve().parent.parent / "web"
SOURCE_FILES: dict[str, Path] = {
    "viewer.html": _WEB / "viewer" / "viewer.html",
    "viewer.js": _WEB / "viewer" / "viewer.js",
    "viewer.css": _WEB / "viewer" / "viewer.css",
    "rrweb-replay.js": _WEB / "node_modules" / "@rrweb" / "replay" / "dist" / "replay.js",
    "rrweb-replay.css": _WEB / "node_modules" / "@rrweb" / "replay" / "dist" / "style.css",
}
"""The view's files in the source tree, by the name they are served and packaged under
(``@rrweb/replay`` as pinned in web/package.json, installed by ``npm ci``)."""
PACKAGED_DIR = Path(__file__).resolve().parent / "viewer"
"""Where the packaged console carries them (installer/build.py copies SOURCE_FILES there)."""
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def viewer_files() -> dict[str, Path]:
    """The view's files: the packaged copies when this is the packaged console, else the source tree."""
    if (PACKAGED_DIR / "viewer.html").is_file():
        return {name: PACKAGED_DIR / name for name in SOURCE_FILES}
    return dict(SOURCE_FILES)


VIEWER_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",  # the viewer and rrweb only: the mirrored page's scripts never run
        "style-src 'self' 'unsafe-inline'",  # the mirrored page's own CSS, rebuilt as <style>
        "img-src 'self' data: http: https:",  # the site's images, as the customer sees them
        "font-src 'self' data: http: https:",
        "connect-src 'self'",
        "frame-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def checked_pointer(text: str) -> str | None:
    """The viewer's pointer message re-encoded if it is a valid ``cobrowse_pointer``, else None.

    Decoded and encoded by ``protocol`` (docs/protocol.md §5a): nothing else goes out.
    """
    try:
        message = decode_guidance(text)
    except ProtocolError:
        return None
    return encode(message) if isinstance(message, CobrowsePointer) else None


class CobrowseViewer:
    """One session's viewer: a loopback HTTP server, one secret path, any number of viewer tabs."""

    def __init__(self, on_pointer: Callable[[str], None]) -> None:
        self._on_pointer = on_pointer
        self._secret = secrets.token_urlsafe(24)
        self._queues: set[asyncio.Queue[str]] = set()
        self._sockets: set[web.WebSocketResponse] = set()
        self._replay: list[str] = []
        """What a tab opened late needs: the messages since the last full snapshot."""
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen on 127.0.0.1 (a free port); the viewer's URL, secret included.

        FileNotFoundError when the view's files are missing (a source tree without ``npm ci``).
        """
        files = viewer_files()
        missing = [str(path) for path in files.values() if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"the co-browse view's files are missing: {', '.join(missing)}")
        app = web.Application()
        prefix = f"/{self._secret}/"
        app.router.add_get(prefix + "feed", self._feed)
        for name, path in files.items():
            route = "" if name == "viewer.html" else name
            app.router.add_get(prefix + route, self._file(path, _TYPES[path.suffix]))
        app.on_response_prepare.append(_headers)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # loopback only: nobody else on the network reaches it
        port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{port}{prefix}"
        return self.url

    def push_events(self, events: list[dict[str, Any]]) -> None:
        if any(e.get("type") == 4 for e in events):  # a new page or a resume: start over
            self._replay.clear()
        self._send(json.dumps({"kind": "events", "events": events}, ensure_ascii=False))

    def push_state(self, state: dict[str, Any]) -> None:
        self._send(json.dumps({"kind": "state", "state": state}))

    def push_ended(self) -> None:
        self._send(json.dumps({"kind": "ended"}))

    def _send(self, text: str) -> None:
        self._replay.append(text)
        for queue in self._queues:
            queue.put_nowait(text)

    async def close(self) -> None:
        """Close the viewer tabs' feeds (the tabs show "ended"), then stop listening."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _file(self, path: Path, kind: str) -> Any:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.FileResponse(path, headers={"Content-Type": f"{kind}; charset=utf-8"})

        return handler

    async def _feed(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4096)
        await ws.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue()
        for text in self._replay:
            queue.put_nowait(text)
        self._queues.add(queue)
        self._sockets.add(ws)

        async def write() -> None:
            while True:
                await ws.send_str(await queue.get())

        writer = asyncio.create_task(write())
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    break
                pointer = checked_pointer(frame.data)
                if pointer is not None:
                    self._on_pointer(pointer)
        finally:
            self._queues.discard(queue)
            self._sockets.discard(ws)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return ws


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = VIEWER_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
