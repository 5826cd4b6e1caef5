"""The listening socket: connection caps, the TLS handshake deadline, running out of descriptors.

aiohttp serves whatever the listening socket accepts; nothing in it limits how many
connections one address holds open, and each holds a file descriptor. So the relay
listens through :class:`RelaySite` (the ``web.TCPSite`` it would otherwise use),
whose protocol factory puts a gate in front of aiohttp's request handler: a
connection over ``max_connections_per_ip`` or ``max_connections`` is aborted as soon
as it is accepted, and its descriptor comes straight back. With TLS the gate sits
*under* the TLS layer (``loop.start_tls``), so connections still in their handshake
are counted too, and a handshake that does not finish within ``http_idle_timeout_s``
is cut off.

Deadlines for the HTTP part are aiohttp's own ``keepalive_timeout`` (see
:mod:`relay.server`): it is armed at accept, so it also bounds a request whose
headers never complete.

When the process runs out of descriptors anyway (a low ``ulimit -n``, other files),
asyncio logs every failed ``accept()`` with a traceback, up to 128 per listening
socket and second, for as long as it lasts. :class:`AcceptErrorLog` turns that into
one line and then a count a minute; connections wait in the kernel's backlog and
asyncio retries a second later, so the relay recovers by itself. Likewise aiohttp
logs a traceback for every malformed request; :func:`quiet_client_errors` keeps those
at DEBUG (the client gets its 400 anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

__all__ = [
    "AcceptErrorLog",
    "ConnectionCounter",
    "RelaySite",
    "Refusal",
    "connection_budget",
    "quiet_client_errors",
    "raise_fd_limit",
]

logger = logging.getLogger(__name__)

Refusal = Literal["per_address", "total"]

_ACCEPT_FAILED = "socket.accept() out of system resource"  # asyncio's wording (selector_events)
_FD_RESERVE_MAX = 256
"""Descriptors kept back from connections: SQLite, worker threads, and the up to 128
sockets asyncio accepts in one go before the gate can close the surplus."""


class ConnectionCounter:
    """Open connections per address and in total; sans-IO, the gate asks it."""

    def __init__(self, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        """0: no cap."""
        self.max_per_address = max_per_address
        """0: no cap (behind a reverse proxy every connection comes from the proxy)."""
        self._open: Counter[str] = Counter()
        self.total = 0

    def admit(self, address: str) -> Refusal | None:
        if self.max_total and self.total >= self.max_total:
            return "total"
        if self.max_per_address and self._open[address] >= self.max_per_address:
            return "per_address"
        self._open[address] += 1
        self.total += 1
        return None

    def release(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]
        self.total -= 1

    def open_from(self, address: str) -> int:
        return self._open[address]


@dataclasses.dataclass
class _Settings:
    counter: ConnectionCounter
    handler_factory: Callable[[], asyncio.Protocol]
    ssl_context: ssl.SSLContext | None
    handshake_timeout_s: float
    on_refused: Callable[[Refusal], None]
    handshaking: set[_Gate] = dataclasses.field(default_factory=set)
    """Not yet handed to aiohttp, so aiohttp's shutdown does not know them."""


class _Gate(asyncio.Protocol):
    """Stands in front of aiohttp's handler for one connection: admits it or aborts it."""

    # One per open connection: slots and no list until TLS hands data over early (~0.4 KiB).
    __slots__ = ("_address", "_early", "_inner", "_raw", "_settings", "_tls")

    def __init__(self, settings: _Settings) -> None:
        self._settings = settings
        self._inner: asyncio.Protocol | None = None
        self._address: str | None = None
        self._tls: asyncio.Task[None] | None = None
        self._raw: asyncio.Transport | None = None
        self._early: list[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        refusal = self._settings.counter.admit(address)
        if refusal is not None:
            transport.abort()  # the descriptor is back before anything is read
            self._settings.on_refused(refusal)
            logger.debug("connection from %s refused: %s", address, refusal)
            return
        self._address = address
        if self._settings.ssl_context is None:
            self._start(transport)
        else:
            transport.pause_reading()  # nothing may be read before the TLS layer is in place
            self._raw = transport
            self._settings.handshaking.add(self)
            self._tls = asyncio.get_running_loop().create_task(self._handshake(transport))

    async def _handshake(self, transport: asyncio.Transport) -> None:
        settings = self._settings
        assert settings.ssl_context is not None
        try:
            tls = await asyncio.get_running_loop().start_tls(
                transport,
                self,
                settings.ssl_context,
                server_side=True,
                ssl_handshake_timeout=settings.handshake_timeout_s,
            )
        except (OSError, TimeoutError, asyncio.CancelledError) as exc:  # ssl.SSLError is an OSError
            logger.debug("TLS handshake with %s failed: %s", self._address, type(exc).__name__)
            transport.abort()
            self._release()
            return
        finally:
            settings.handshaking.discard(self)
        if tls is None:  # the connection went away during the handshake
            self._release()
            return
        self._start(tls)

    def abort(self) -> None:
        if self._raw is not None:
            self._raw.abort()

    def _start(self, transport: asyncio.BaseTransport) -> None:
        self._inner = inner = self._settings.handler_factory()
        inner.connection_made(transport)
        early, self._early = self._early, None
        for data in early or ():
            inner.data_received(data)

    def _release(self) -> None:
        if self._address is not None:
            self._settings.counter.release(self._address)
            self._address = None

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)
        else:  # the TLS layer can hand over a request before start_tls() has returned
            if self._early is None:
                self._early = []
            self._early.append(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        if self._tls is not None and not self._tls.done():
            self._tls.cancel()
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


class RelaySite(web.BaseSite):
    """``web.TCPSite`` with the gate: caps per address and in total, TLS under the gate."""

    __slots__ = ("_host", "_port", "_settings")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        counter: ConnectionCounter,
        handshake_timeout_s: float,
        on_refused: Callable[[Refusal], None],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        server = runner.server
        assert server is not None
        self._host = host
        self._port = port
        self._settings = _Settings(
            counter=counter,
            handler_factory=server,
            ssl_context=ssl_context,
            handshake_timeout_s=handshake_timeout_s,
            on_refused=on_refused,
        )

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        settings = self._settings
        # No ssl= here: TLS is started per connection by the gate, below its count.
        self._server = await loop.create_server(
            lambda: _Gate(settings), self._host, self._port, backlog=self._backlog
        )

    async def stop(self) -> None:
        await super().stop()
        for gate in list(self._settings.handshaking):
            gate.abort()


class AcceptErrorLog:
    """An event-loop exception handler that turns asyncio's accept() error storm into a line a minute.

    Everything else goes to the handler that was installed before (or the default).
    """

    def __init__(
        self,
        *,
        summary_every_s: float = 60.0,
        on_error: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.summary_every_s = summary_every_s
        self._on_error = on_error
        self._clock = clock
        self._previous: Any = None
        self._last_line: float | None = None
        self._unreported = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop.get_exception_handler() is self:
            loop.set_exception_handler(self._previous)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != _ACCEPT_FAILED:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        if self._on_error is not None:
            self._on_error()
        now = self._clock()
        exc = context.get("exception")
        if self._last_line is None or now - self._last_line >= self.summary_every_s * 10:
            self._last_line = now
            self._unreported = 0
            logger.error(
                "accept() failed: %s; new connections wait in the kernel's backlog until descriptors "
                "are free (raise LimitNOFILE / ulimit -n, lower max_connections: docs/operations.md)",
                exc,
            )
            return
        self._unreported += 1
        if now - self._last_line >= self.summary_every_s:
            logger.error(
                "accept() failed %d more times in the last %.0f s (%s)",
                self._unreported,
                now - self._last_line,
                exc,
            )
            self._last_line = now
            self._unreported = 0


class _ClientErrorFilter(logging.Filter):
    """Drops aiohttp's ERROR traceback for a request the *client* got wrong (400, 413...).

    aiohttp logs one for every malformed request line or header, which lets anyone fill
    the relay's log at will; the client gets its 4xx answer either way. Tracebacks of
    the relay's own failures (500) are kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.msg == "Error handling request from %s":
            exc = record.exc_info[1]
            if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 0) < 500:
                logger.debug("bad request from %s: %s", record.args, exc.message)
                return False
        return True


_CLIENT_ERRORS = _ClientErrorFilter()


def quiet_client_errors() -> None:
    """Install :class:`_ClientErrorFilter` on aiohttp's server logger (once per process)."""
    server_logger = logging.getLogger("aiohttp.server")
    if _CLIENT_ERRORS not in server_logger.filters:
        server_logger.addFilter(_CLIENT_ERRORS)


def _descriptor_limits() -> tuple[int, int] | None:
    """(soft, hard) ``RLIMIT_NOFILE``, None where there is no such thing or no limit."""
    if sys.platform == "win32":
        return None
    else:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        return None if soft == resource.RLIM_INFINITY else (soft, hard)


def _set_soft_limit(soft: int, hard: int) -> None:
    if sys.platform != "win32":
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def raise_fd_limit() -> int | None:
    """Raise this process's soft descriptor limit to its hard limit; the new soft limit.

    For the ``madoguchi relay`` program only: a library should not change process limits.
    """
    limits = _descriptor_limits()
    if limits is None:
        return None
    soft, hard = limits
    if hard >= 0 and soft < hard:  # RLIM_INFINITY is -1
        with contextlib.suppress(ValueError, OSError):
            _set_soft_limit(hard, hard)
            logger.info("descriptor limit: %d -> %d", soft, hard)
            return hard
    return soft


def connection_budget(max_connections: int) -> int:
    """``max_connections``, lowered to what the descriptor limit allows (with a warning)."""
    limits = _descriptor_limits()
    if limits is None:
        return max_connections
    soft = limits[0]
    budget = max(1, soft - min(_FD_RESERVE_MAX, soft // 4))
    if max_connections == 0:
        logger.info("max_connections: %d (descriptor limit %d)", budget, soft)
        return budget
    if max_connections > budget:
        logger.warning(
            "max_connections %d -> %d: the descriptor limit (ulimit -n) is %d; raise LimitNOFILE "
            "to allow more (docs/operations.md)",
            max_connections,
            budget,
            soft,
        )
        return budget
    return max_connections
