"""One tab's connection: an :class:`OperatorClient` on the network thread, Qt signals out.

The client lives on the shared :class:`client_core.loop_thread.LoopThread`; every
call from the UI is handed to that loop (``submit`` for coroutines, ``call_soon``
for the data-channel sends, which aiortc wants on its own loop), and everything
the client reports comes back as a queued Qt signal, so no network work ever runs
on the UI thread and no widget is touched from the loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from client_core.loop_thread import LoopThread
from operator_console.client import LoginFailed, OperatorClient, OperatorEvent
from operator_console.cursor import CursorState
from operator_console.frames import RGBImage
from operator_console.peer import ConnectionStats
from operator_console.state import OperatorPhase
from protocol import OperatorIdentity

__all__ = ["SessionBridge"]

logger = logging.getLogger(__name__)


class SessionBridge(QObject):
    """Owns one OperatorClient (one relay connection, one session at a time)."""

    received = Signal(object)
    """An :data:`OperatorEvent`, delivered on the UI thread."""
    logged_in = Signal(object)
    """The :class:`OperatorIdentity` after a login."""
    login_failed = Signal(str, str)
    """``LoginFailed.kind`` and its message."""
    stats_ready = Signal(object)
    """:class:`ConnectionStats` (or None outside a session), about once a second."""
    action_failed = Signal(str)
    """A call that could not be carried out (relay connection gone...): the detail, for the log."""

    def __init__(
        self, loop: LoopThread, relay_url: str, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__()
        self._loop = loop
        self.relay_url = relay_url
        self._ssl = ssl_context
        self._client: OperatorClient | None = None
        self._token: str | None = None
        """The login this tab reconnects with; :meth:`renew_token` replaces it after a new login."""
        self._closed = False
        self._stats_pending = False

    # --- connection -------------------------------------------------------------------

    @property
    def client(self) -> OperatorClient | None:
        return self._client

    @property
    def token(self) -> str | None:
        return self._token

    def renew_token(self, token: str) -> None:
        """A new login from the window (the old token was refused): reconnect with it from now on."""
        self._token = token

    @property
    def identity(self) -> OperatorIdentity | None:
        return None if self._client is None else self._client.identity

    def login(self, username: str, password: str) -> concurrent.futures.Future[None]:
        return self._submit(self._login(username=username, password=password))

    def login_with_token(self, token: str) -> concurrent.futures.Future[None]:
        return self._submit(self._login(token=token))

    async def _login(
        self, *, username: str | None = None, password: str | None = None, token: str | None = None
    ) -> None:
        old, self._client = self._client, None
        if token is not None:
            self._token = token
        if old is not None:
            await old.close()
        client = OperatorClient(self.relay_url, on_event=self._deliver, ssl_context=self._ssl)
        try:
            if token is not None:
                identity = await client.login_with_token(token)
            else:
                assert username is not None
                assert password is not None
                identity = await client.login(username, password)
        except LoginFailed as exc:
            logger.info("login failed: %s (%s)", exc.kind, exc.message)
            await client.close()
            self._emit(self.login_failed, exc.kind, exc.message)
            return
        except Exception as exc:  # an unexpected failure must still end in a message, not a hang
            logger.exception("login crashed")
            await client.close()
            self._emit(self.login_failed, "error", type(exc).__name__)
            return
        self._client = client
        self._token = client.token
        self._emit(self.logged_in, identity)

    # --- session actions ------------------------------------------------------------------

    @property
    def phase(self) -> OperatorPhase:
        return OperatorPhase.CLOSED if self._client is None else self._client.phase

    def claim(self, code: str) -> None:
        self._submit(self._with_client("claim", code))

    def issue_code(self) -> None:
        self._submit(self._with_client("issue_code"))

    def end_session(self) -> None:
        self._submit(self._with_client("end_session"))

    async def _with_client(self, method: str, *args: str) -> None:
        client = self._client
        if (client is None or client.phase is OperatorPhase.CLOSED) and self._token is not None:
            # The relay dropped the connection (idle, restarted) or a reconnect failed before:
            # connect again with the same login. A refused token ends in login_failed.
            await self._login(token=self._token)
            client = self._client
            if client is None:
                return
        if client is None:
            self._emit(self.action_failed, "not logged in")
            return
        try:
            await getattr(client, method)(*args)
        except Exception as exc:
            logger.warning("%s failed: %s", method, exc)
            self._emit(self.action_failed, f"{method}: {exc}")

    def send_pointer(self, x: float, y: float, *, monitor: int, action: str = "move") -> None:
        self._call(lambda c: c.send_pointer(x, y, monitor=monitor, action=action))

    def send_key_guide(self, keys: Sequence[Sequence[str]], caption: str) -> None:
        combos = [list(c) for c in keys]
        self._call(lambda c: c.send_key_guide(combos, caption))

    def clear_key_guide(self) -> None:
        self._call(lambda c: c.clear_key_guide())

    def poll_stats(self) -> None:
        """Ask for fresh figures; at most one request in flight."""
        if self._stats_pending or self._client is None or self._closed:
            return
        self._stats_pending = True
        self._submit(self._stats())

    async def _stats(self) -> None:
        try:
            client = self._client
            stats: ConnectionStats | None = None if client is None else await client.stats()
            self._emit(self.stats_ready, stats)
        except Exception as exc:
            logger.debug("stats failed: %s", exc)
        finally:
            self._stats_pending = False

    def take_frame(self) -> RGBImage | None:
        """The newest frame since the last call (the sink converted it on the network thread)."""
        client = self._client
        return None if client is None else client.sink.take()

    def cursor_state(self) -> CursorState:
        """The customer's cursor as last reported (one immutable object, replaced atomically)."""
        client = self._client
        return CursorState() if client is None else client.cursor.state

    def close(self) -> concurrent.futures.Future[None]:
        """End the session (if any) and close the relay connection."""
        self._closed = True
        return self._submit(self._close())

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.close(), 10)
            except Exception as exc:
                logger.warning("closing the relay connection failed: %s", exc)

    # --- plumbing -----------------------------------------------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, None]) -> concurrent.futures.Future[None]:
        try:
            return self._loop.submit(coro)
        except RuntimeError as exc:
            # The network thread has already stopped (the program is exiting): nothing left to do.
            coro.close()
            logger.debug("network loop gone: %s", exc)
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done

    def _call(self, action: Callable[[OperatorClient], object]) -> None:
        def run() -> None:
            client = self._client
            if client is not None:
                action(client)

        try:
            self._loop.call_soon(run)
        except RuntimeError as exc:
            logger.debug("network loop gone: %s", exc)

    def _deliver(self, event: OperatorEvent) -> None:
        self._emit(self.received, event)

    def _emit(self, signal: Any, *args: object) -> None:
        # Runs on the network thread: Qt queues the signal to the UI thread. A tab
        # closed meanwhile has no receivers left, and a deleted bridge raises.
        try:
            signal.emit(*args)
        except RuntimeError:
            logger.debug("bridge gone; %s dropped", args)
