"""The scripted operator: a real :class:`operator_console.client.OperatorClient` driven by a program.

:func:`operator_view` logs in, types the customer's code and waits until the screen
is connected; :func:`expect` waits for one kind of operator event. :class:`Operator`
is the synchronous handle a :class:`testbed.world.World` gives Qt tests, whose
operator lives on the world's loop thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from testbed.customer import TestbedError

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from operator_console.client import OperatorClient, OperatorEvent, SessionEnded

__all__ = ["Operator", "expect", "operator_view"]

EventT = TypeVar("EventT")
_T = TypeVar("_T")


def _quiet(_: str) -> None:
    pass


async def expect(operator: OperatorClient, kind: type[EventT], timeout: float, what: str) -> EventT:
    """The next operator event of type ``kind``; TestbedError(what) on timeout, refusal or end."""
    from operator_console.client import Refused, SessionEnded

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TestbedError(what)
        try:
            event: Any = await operator.next_event(remaining)
        except TimeoutError:
            raise TestbedError(what) from None
        if isinstance(event, kind):
            return event
        if isinstance(event, Refused | SessionEnded) and kind is not SessionEnded:
            raise TestbedError(f"{what}: {event}")


async def operator_view(
    operator: OperatorClient,
    username: str,
    password: str,
    code: Callable[[], Any],
    *,
    say: Callable[[str], None] = _quiet,
) -> None:
    """Log in, type the customer's code (awaited from ``code()``), wait until the screen is connected."""
    from operator_console.client import ClaimAccepted, ViewingStarted

    identity = await operator.login(username, password)
    say(f"operator: logged in as {identity.display_name}")
    typed = await code()
    say(f"operator: typing code {typed}")
    await operator.claim(typed)
    await expect(operator, ClaimAccepted, 10, "the code was not accepted")
    say("operator: waiting for the customer to allow")
    await expect(operator, ViewingStarted, 30, "the screen never arrived")
    say("operator: viewing the customer's screen")


class _Loop(Protocol):
    """What an :class:`Operator` needs of its world: run a coroutine or a callable on the loop."""

    def call(self, coro: Coroutine[Any, Any, _T], timeout: float = 30.0) -> _T: ...

    def call_soon(self, action: Callable[[], object]) -> None: ...


class Operator:
    """One logged-in operator living on a world's loop; its events are collected as they happen."""

    def __init__(self, world: _Loop, client: OperatorClient, events: list[OperatorEvent]) -> None:
        self._world = world
        self.client = client
        self.events = events
        """Appended to on the world's loop thread as the client reports them (any thread may read)."""

    def saw(self, kind: type) -> bool:
        return any(isinstance(e, kind) for e in self.events)

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)

    @property
    def ended(self) -> SessionEnded | None:
        from operator_console.client import SessionEnded

        return next((e for e in self.events if isinstance(e, SessionEnded)), None)

    @property
    def frames(self) -> int:
        return self.client.sink.frames_received

    def claim(self, code: str) -> None:
        self._world.call(self.client.claim(code))

    def end_session(self) -> None:
        self._world.call(self.client.end_session())

    def pointer(self, x: float, y: float, *, monitor: int = 0, action: str = "move") -> None:
        self._world.call_soon(lambda: self.client.send_pointer(x, y, monitor=monitor, action=action))

    def key_guide(self, keys: Sequence[Sequence[str]], caption: str = "") -> None:
        self._world.call_soon(lambda: self.client.send_key_guide(keys, caption))

    def channel_open(self) -> bool:
        peer = self.client.peer
        return peer is not None and peer.channel_open.is_set()
