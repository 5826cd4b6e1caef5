"""Drive the agent UI against a real relay and real operators: for the tests and the screenshots.

:class:`OperatorWorld` runs a relay (``relay.server.running_relay``) and
:class:`operator_console.client.OperatorClient` operators on a loop thread of
their own, so a test can spin the Qt side (``qtbot.waitUntil``) while the
network keeps going. :class:`TcpProxy` sits between a client and the relay so a
test can cut connections the way a flaky network does. Nothing here is a fake:
the agent side under test is the real controller, bridge and session.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from madoguchi.loop_thread import LoopThread
from madoguchi.tcp_link import BreakableLink
from operator_console.client import OperatorClient, OperatorEvent, SessionEndedEvent
from relay.registry import RegistryStats
from relay.server import RunningRelay, running_relay

__all__ = ["Operator", "OperatorWorld", "TcpProxy"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


TcpProxy = BreakableLink
"""The link a test cuts between a client and the relay (see madoguchi.tcp_link)."""


class Operator:
    """One logged-in operator; its events are collected as they happen (any thread may read)."""

    def __init__(self, world: OperatorWorld, client: OperatorClient, events: list[OperatorEvent]) -> None:
        self._world = world
        self.client = client
        self.events = events
        """Appended to on the world's loop thread as the client reports them."""

    def saw(self, kind: type) -> bool:
        return any(isinstance(e, kind) for e in self.events)

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)

    @property
    def ended(self) -> SessionEndedEvent | None:
        return next((e for e in self.events if isinstance(e, SessionEndedEvent)), None)

    @property
    def frames(self) -> int:
        return self.client.sink.frames_received

    def claim(self, code: str) -> None:
        self._world.call(self.client.claim(code))

    def end_session(self) -> None:
        self._world.call(self.client.end_session())

    def pointer(self, x: float, y: float, *, monitor: int = 0, action: str = "move") -> None:
        self._world.loop.call_soon(lambda: self.client.send_pointer(x, y, monitor=monitor, action=action))

    def key_guide(self, keys: Sequence[Sequence[str]], caption: str = "") -> None:
        self._world.loop.call_soon(lambda: self.client.send_key_guide(keys, caption))

    def channel_open(self) -> bool:
        peer = self.client.peer
        return peer is not None and peer.channel_open.is_set()


class OperatorWorld:
    """A real relay plus operators, on a loop thread; a synchronous API for Qt tests."""

    def __init__(self, **relay_overrides: Any) -> None:
        self.loop = LoopThread("agent-ui-world")
        self._overrides = relay_overrides
        self._relay_stack: contextlib.AsyncExitStack | None = None
        self.relay: RunningRelay | None = None
        self._accounts: list[tuple[str, str, str, str]] = []
        self.operators: list[Operator] = []
        self.proxies: list[TcpProxy] = []
        self.start_relay()

    @property
    def url(self) -> str:
        assert self.relay is not None
        return self.relay.url

    def call(self, coro: Coroutine[Any, Any, _T], timeout: float = 30.0) -> _T:
        return self.loop.submit(coro).result(timeout)

    def start_relay(self, **extra: Any) -> RunningRelay:
        async def start() -> RunningRelay:
            stack = contextlib.AsyncExitStack()
            relay = await stack.enter_async_context(running_relay(**{**self._overrides, **extra}))
            self._relay_stack = stack
            return relay

        self.relay = self.call(start())
        for account in self._accounts:
            self.relay.add_operator(*account)
        return self.relay

    def stop_relay(self) -> None:
        """Stop the relay (its memory of codes goes with it), like a crash and restart would."""
        stack, self._relay_stack = self._relay_stack, None
        if stack is not None:
            self.call(stack.aclose())

    def add_operator(self, username: str, password: str, display_name: str, organisation: str) -> None:
        self._accounts.append((username, password, display_name, organisation))
        assert self.relay is not None
        self.relay.add_operator(username, password, display_name, organisation)

    def operator(self, username: str, password: str, *, via: TcpProxy | None = None) -> Operator:
        async def login() -> Operator:
            events: list[OperatorEvent] = []
            client = OperatorClient(via.url if via is not None else self.url, on_event=events.append)
            await client.login(username, password)
            return Operator(self, client, events)

        operator = self.call(login())
        self.operators.append(operator)
        return operator

    def proxy(self) -> TcpProxy:
        assert self.relay is not None
        proxy = TcpProxy(self.relay.port)
        self.call(proxy.start())
        self.proxies.append(proxy)
        return proxy

    def cut(self, proxy: TcpProxy) -> None:
        self.loop.call_soon(proxy.cut)

    def stats(self) -> RegistryStats:
        async def read() -> RegistryStats:
            assert self.relay is not None
            return self.relay.state.registry.stats()

        return self.call(read())

    def close(self) -> None:
        for operator in self.operators:
            with contextlib.suppress(Exception):
                self.call(operator.client.close(), timeout=10)
        for proxy in self.proxies:
            with contextlib.suppress(Exception):
                self.call(proxy.close(), timeout=5)
        with contextlib.suppress(Exception):
            self.stop_relay()
        self.loop.stop()
