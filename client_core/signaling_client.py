"""A client websocket to the relay that speaks protocol messages.

Shared by the agent and the operator console. It only moves messages: encode on
the way out, decode on the way in. A message that does not decode is logged and
dropped (the relay is the only sender, so it signals a version skew or a bug,
not an attack on this process), and never reaches the state machines.

Behind an HTTP proxy the websocket goes through a ``CONNECT`` tunnel; which proxy (if
any) is decided at each connect by :func:`client_core.proxy.resolve_proxy`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from collections.abc import AsyncIterator
from types import TracebackType

import aiohttp

from client_core.proxy import ProxySetting, redact, resolve_proxy
from protocol import MAX_MESSAGE_BYTES, Message, ProtocolError, SignalingMessage, decode_signaling, encode

__all__ = ["RelayUnreachable", "SignalingSocket", "http_to_ws"]

logger = logging.getLogger(__name__)


class RelayUnreachable(ConnectionError):
    """The relay could not be reached (DNS, refused, TLS, HTTP error on upgrade)."""


def http_to_ws(base_url: str, path: str) -> str:
    """``http://host:port`` + ``/ws/agent`` -> ``ws://host:port/ws/agent`` (https -> wss)."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    return base + path


def _why(exc: BaseException) -> str:
    """The reason in a few words; a proxy's refusal says what the proxy said."""
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        if exc.status in (401, 407):  # tinyproxy 1.11 answers 401 where RFC 9110 says 407
            return f"the proxy asks for a user name and password (HTTP {exc.status})"
        return f"the proxy refused the connection (HTTP {exc.status})"
    return type(exc).__name__


class SignalingSocket:
    """One websocket connection to the relay."""

    def __init__(
        self,
        base_url: str,
        path: str,
        *,
        http: aiohttp.ClientSession | None = None,
        ssl_context: ssl.SSLContext | None = None,
        heartbeat_s: float = 15.0,
        connect_timeout_s: float = 10.0,
        proxy: ProxySetting = None,
    ) -> None:
        self.url = http_to_ws(base_url, path)
        self._proxy_setting = proxy
        self._own_http = http is None
        self._http = http
        self._ssl = ssl_context
        self._heartbeat = heartbeat_s
        self._timeout = connect_timeout_s
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""

    async def connect(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        proxy = resolve_proxy(self.url, self._proxy_setting)
        via = "" if proxy is None else f" through the proxy {redact(proxy)}"
        try:
            self._ws = await self._http.ws_connect(
                self.url,
                proxy=proxy,
                heartbeat=self._heartbeat,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
                max_msg_size=MAX_MESSAGE_BYTES,
                ssl=self._ssl if self._ssl is not None else True,
                autoping=True,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._close_http()
            raise RelayUnreachable(f"cannot reach the relay at {self.url}{via}: {_why(exc)}") from exc
        logger.info("connected to %s%s", self.url, via)

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def send(self, message: Message) -> bool:
        """Send one message; False if the connection is already gone."""
        if self._ws is None or self._ws.closed:
            return False
        try:
            await self._ws.send_str(encode(message))
        except (ConnectionError, aiohttp.ClientError, RuntimeError):
            return False
        logger.debug("sent %s", message.type)
        return True

    async def messages(self) -> AsyncIterator[SignalingMessage]:
        """Yield decoded messages until the websocket closes."""
        ws = self._ws
        if ws is None:
            return
        async for frame in ws:
            if frame.type is aiohttp.WSMsgType.TEXT:
                try:
                    message = decode_signaling(frame.data)
                except ProtocolError as exc:
                    logger.warning("undecodable message from relay dropped: %s", exc.detail)
                    continue
                logger.debug("received %s", message.type)
                yield message
            elif frame.type is aiohttp.WSMsgType.ERROR:
                logger.warning("websocket error: %s", ws.exception())
                break
        self.close_code = ws.close_code
        self.close_reason = str(getattr(ws, "close_reason", "") or "")

    @property
    def local_address(self) -> str | None:
        """The local IP address of the connection (None before it is up, or if unknown)."""
        if self._ws is None:
            return None
        name = self._ws.get_extra_info("sockname")
        return str(name[0]) if isinstance(name, tuple) and name else None

    def abort(self) -> None:
        """Cut the connection at once, with no close handshake: its local address is gone
        (client_core.peer_restart), so no handshake could complete; ``messages`` ends."""
        sock = self._ws.get_extra_info("socket") if self._ws is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        await self._close_http()

    async def _close_http(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> SignalingSocket:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
