"""A world for tests and screenshots: a real relay, customers and operators on a loop thread of their own.

The Qt side under test runs on the main thread (``qtbot.waitUntil`` spins it) while
the network keeps going on the world's :class:`client_core.loop_thread.LoopThread`.
A test adds what it needs: operators (:meth:`World.operator`), customers' agents
capturing an X display (:meth:`World.customer`), and links to the relay it can cut
the way a flaky network does (:meth:`World.link`). The relay can be stopped and
started again on the same port, like a crash and restart. Nothing here is a fake:
it is the code the programs run, with decisions scripted where a person would click.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from client_core.loop_thread import LoopThread
from relay.registry import RegistryStats
from relay.server import RunningRelay, running_relay
from testbed.customer import Customer
from testbed.operator import Operator
from testbed.scene import SceneProcess
from testbed.tcp_link import BreakableLink
from testbed.xvfb import VirtualDisplay

__all__ = ["World", "picture_display"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


@contextlib.contextmanager
def picture_display(width: int, height: int, mode: str = "picture") -> Iterator[str]:
    """A private Xvfb of ``width`` x ``height`` showing a scene; yields its name (DISPLAY untouched)."""
    with (
        VirtualDisplay(screens=[(width, height)]) as display,
        SceneProcess(display.name, mode, geometry=(0, 0, width, height)),
    ):
        yield display.name


class World:
    """A real relay plus customers and operators, on their own asyncio thread; a synchronous API."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, **relay_overrides: Any) -> None:
        """``ssl_context``: the relay's server side (https); ``relay_overrides``: config keys."""
        self.loop = LoopThread("testbed-world")
        self._ssl_context = ssl_context
        self._overrides = relay_overrides
        self._relay_stack: contextlib.AsyncExitStack | None = None
        self._stack = contextlib.AsyncExitStack()
        self._relay: RunningRelay | None = None
        self._url = ""
        self._accounts: list[tuple[str, str, str, str]] = []
        self.customers: list[Customer] = []
        self.operators: list[Operator] = []
        self.links: list[BreakableLink] = []
        try:
            self.start_relay()
        except BaseException:
            self.loop.stop()
            raise

    @property
    def relay(self) -> RunningRelay:
        """The running relay (between :meth:`stop_relay` and :meth:`start_relay` there is none)."""
        if self._relay is None:
            raise RuntimeError("the relay is stopped")
        return self._relay

    @property
    def url(self) -> str:
        """The relay's address; while it is stopped, the address it had (nothing answers there)."""
        return self._url

    def call(self, coro: Coroutine[Any, Any, _T], timeout: float = 30.0) -> _T:
        """Run ``coro`` on the world's loop and wait for its result."""
        return self.loop.submit(coro).result(timeout)

    def call_soon(self, action: Callable[[], object]) -> None:
        """Run a plain callable on the world's loop, without waiting."""
        self.loop.call_soon(action)

    def run_on_loop(self, action: Callable[[], object]) -> None:
        """Run a plain callable on the world's loop thread and wait for it."""

        async def wrapper() -> None:
            action()

        self.call(wrapper())

    # -- the relay --------------------------------------------------------------------------

    def start_relay(self, **extra: Any) -> RunningRelay:
        """Start the relay (again), with the accounts added so far; ``extra``: config keys."""

        async def start() -> RunningRelay:
            stack = contextlib.AsyncExitStack()
            relay = await stack.enter_async_context(
                running_relay(ssl_context=self._ssl_context, **{**self._overrides, **extra})
            )
            self._relay_stack = stack
            return relay

        relay = self._relay = self.call(start())
        self._url = relay.url
        for account in self._accounts:
            relay.add_operator(*account)
        return relay

    def stop_relay(self) -> None:
        """Stop the relay (its memory of codes goes with it), like a crash and restart would."""
        stack, self._relay_stack = self._relay_stack, None
        self._relay = None
        if stack is not None:
            self.call(stack.aclose())

    def stats(self) -> RegistryStats:
        async def read() -> RegistryStats:
            return self.relay.state.registry.stats()

        return self.call(read())

    def add_operator(self, username: str, password: str, display_name: str, organisation: str) -> None:
        self._accounts.append((username, password, display_name, organisation))
        self.relay.add_operator(username, password, display_name, organisation)

    # -- the network ------------------------------------------------------------------------

    def link(self) -> BreakableLink:
        """A breakable path to the relay: give its ``url`` to a customer or an operator."""
        link = BreakableLink(int(self.url.rsplit(":", 1)[1]))
        self.call(link.start())
        self.links.append(link)
        return link

    def cut(self, link: BreakableLink) -> None:
        """Cut every connection through ``link`` (new ones still pass)."""
        self.loop.call_soon(link.cut)

    # -- the people -------------------------------------------------------------------------

    def customer(
        self, display: str | None = None, *, relay_url: str | None = None, **fields: Any
    ) -> Customer:
        """Start a customer's agent; with the default ``operator_code=None`` it shows a 4-digit code."""
        customer = Customer(relay_url or self.url, display, **fields)
        self.customers.append(customer)
        self.run_on_loop(customer.start)
        return customer

    def operator(self, username: str, password: str, *, via: BreakableLink | None = None) -> Operator:
        """A logged-in operator client (through ``via`` if given)."""
        from operator_console.client import OperatorClient, OperatorEvent

        async def login() -> Operator:
            events: list[OperatorEvent] = []
            client = OperatorClient(via.url if via is not None else self.url, on_event=events.append)
            await client.login(username, password)
            return Operator(self, client, events)

        operator = self.call(login())
        self.operators.append(operator)
        return operator

    def close(self) -> None:
        for customer in self.customers:
            try:
                self.call(customer.stop())
            except Exception as exc:
                logger.warning("customer did not stop: %s", exc)
        for operator in self.operators:
            with contextlib.suppress(Exception):
                self.call(operator.client.close(), timeout=10)
        for link in self.links:
            with contextlib.suppress(Exception):
                self.call(link.close(), timeout=5)
        try:
            with contextlib.suppress(Exception):
                self.stop_relay()
            self.call(self._stack.aclose())
        finally:
            self.loop.stop()
