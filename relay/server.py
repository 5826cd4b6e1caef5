"""Run a relay from other code: in this event loop, in a thread, or as the CLI does.

For tests, the demo and the agent/console developers::

    async with running_relay() as relay:               # free port, temporary data dir
        relay.add_operator("hanako", "correct horse", "佐藤 花子", "Madoguchi Securities")
        relay.url          # "http://127.0.0.1:PORT"
        relay.ws_url("agent")  # "ws://127.0.0.1:PORT/ws/agent"

    with relay_in_thread(config) as relay:              # from synchronous code (Qt, CLI)
        ...

Pass a :class:`relay.config.RelayConfig` (``load_config(...)``) to choose the
port, the data directory and the timers; without one a loopback relay on a free
port with a throw-away data directory is started.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import ssl
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from protocol import Role

from .accounts import Accounts, OperatorAccount
from .app import RELAY, RelayState, create_app
from .audit import AuditLog, AuditRow
from .config import RelayConfig, load_config, with_overrides
from .listener import (
    AcceptErrorLog,
    ConnectionCounter,
    RelaySite,
    connection_budget,
    quiet_client_errors,
    raise_fd_limit,
)

__all__ = ["RunningRelay", "running_relay", "relay_in_thread", "serve_forever"]

logger = logging.getLogger(__name__)

_LINGERING_S = 1.0
"""How long aiohttp keeps reading an unread request body after answering (its default
is 10 s, a gift to a client that trickles a body the relay has already refused)."""


@dataclasses.dataclass
class RunningRelay:
    """A started relay: where it listens and how to manage it."""

    url: str
    """``http://HOST:PORT`` (``https`` with TLS); the websockets are ``ws_url(role)``."""
    config: RelayConfig
    app: web.Application

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def ws_url(self, role: Role) -> str:
        return self.url.replace("http", "ws", 1) + f"/ws/{role}"

    @property
    def state(self) -> RelayState:
        return self.app[RELAY]

    @property
    def accounts(self) -> Accounts:
        return self.state.accounts

    @property
    def audit(self) -> AuditLog:
        return self.state.audit

    def add_operator(
        self, username: str, password: str, display_name: str, organisation: str
    ) -> OperatorAccount:
        """Create an operator who can log in at ``POST /api/login`` (password >= 8 chars)."""
        return self.accounts.add(username, password, display_name, organisation)

    def audit_rows(self, event: str | None = None) -> list[AuditRow]:
        return self.audit.rows(event=event)


@contextlib.asynccontextmanager
async def running_relay(
    config: RelayConfig | None = None, *, ssl_context: ssl.SSLContext | None = None, **overrides: Any
) -> AsyncIterator[RunningRelay]:
    """Start a relay in the running event loop; stop it (gracefully) on exit.

    Without ``config`` the relay listens on 127.0.0.1, a free port, with a
    temporary data directory removed afterwards. Keyword ``overrides`` are config
    keys (``allow_timeout_s=1``, ``max_sessions=2``...) applied on top.
    """
    with contextlib.ExitStack() as stack:
        if config is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="madoguchi-relay-"))
            config = load_config(env={}, port=0, data_dir=Path(tmp))
        if overrides:
            config = with_overrides(config, overrides)
        app = create_app(config)
        limits = config.limits
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=5.0,
            # aiohttp arms this at accept, not only between requests: it is also the
            # deadline for a request's headers (slowloris), never for a websocket.
            keepalive_timeout=limits.http_idle_timeout_s,
            lingering_time=_LINGERING_S,
        )
        await runner.setup()
        loop = asyncio.get_running_loop()
        metrics = app[RELAY].metrics
        accept_errors = AcceptErrorLog(on_error=metrics.accept_errors.inc)
        accept_errors.install(loop)
        quiet_client_errors()
        try:
            counter = ConnectionCounter(
                connection_budget(limits.max_connections),
                0 if config.trust_forwarded_for else limits.max_connections_per_ip,
            )
            site = RelaySite(
                runner,
                config.host,
                config.port,
                counter=counter,
                handshake_timeout_s=limits.http_idle_timeout_s,
                on_refused=lambda reason: metrics.connections_refused.labels(reason).inc(),
                ssl_context=ssl_context,
            )
            await site.start()
            port = _bound_port(runner)
            scheme = "https" if ssl_context else "http"
            host = config.host if ":" not in config.host else f"[{config.host}]"
            relay = RunningRelay(url=f"{scheme}://{host}:{port}", config=config, app=app)
            logger.info("relay: starting -> listening on %s", relay.url)
            yield relay
        finally:
            await runner.cleanup()
            accept_errors.uninstall(loop)
            logger.info("relay: listening -> stopped")


def _bound_port(runner: web.AppRunner) -> int:
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            return int(addr[1])
    raise RuntimeError("the relay is not listening on a TCP port")


@contextlib.contextmanager
def relay_in_thread(
    config: RelayConfig | None = None, *, ssl_context: ssl.SSLContext | None = None, **overrides: Any
) -> Iterator[RunningRelay]:
    """:func:`running_relay` on its own event loop in a daemon thread, for synchronous callers."""
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        holder["loop"] = asyncio.get_running_loop()
        holder["stop"] = stop
        try:
            async with running_relay(config, ssl_context=ssl_context, **overrides) as relay:
                holder["relay"] = relay
                started.set()
                await stop.wait()
        except BaseException as exc:
            holder["error"] = exc
            started.set()
            raise

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="madoguchi-relay", daemon=True)
    thread.start()
    started.wait()
    if "error" in holder:
        thread.join()
        raise RuntimeError("the relay failed to start") from holder["error"]
    try:
        yield holder["relay"]
    finally:
        loop: asyncio.AbstractEventLoop = holder["loop"]
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(timeout=15)


def serve_forever(config: RelayConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
    """Run until SIGINT/SIGTERM (the ``madoguchi relay`` command); prints the URL on stdout."""

    raise_fd_limit()  # the relay program may; in-process users keep their process's limit

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl+C raises instead
                loop.add_signal_handler(sig, stop.set)
        async with running_relay(config, ssl_context=ssl_context) as relay:
            print(f"madoguchi relay listening on {relay.url}", flush=True)
            await stop.wait()
            logger.info("relay: listening -> shutting down (signal)")

    asyncio.run(main())
