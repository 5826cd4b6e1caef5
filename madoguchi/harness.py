"""A real session run by a program: the scripted customer and operator of the demo and benchmarks.

Nothing here is a stand-in: :class:`ScriptedCustomer` is an :class:`AgentSession`
whose customer agrees to the terms and clicks Allow exactly where a person would,
and :func:`operator_view` is an :class:`OperatorClient` that logs in, types the
code and waits until the screen is connected. ``madoguchi demo`` runs both in one
process; ``madoguchi bench`` runs the customer in a child process of its own.
Heavy imports (aiortc, the relay) happen when these are used, not when imported.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from agent.session import AgentEvent, AgentSession, SessionEnded, TrackFactory
    from operator_console.client import OperatorClient
    from protocol import KeyGuide, KeyGuideClear, Pointer

__all__ = ["HarnessError", "ScriptedCustomer", "expect", "operator_view"]

logger = logging.getLogger(__name__)

EventT = TypeVar("EventT")


class HarnessError(RuntimeError):
    """The scripted session did not get where it should (with what was expected)."""


def _quiet(_: str) -> None:
    pass


class ScriptedCustomer:
    """The customer's side: agrees, shows the code, allows the operator, shares.

    ``say`` receives one line per step a person would see (the demo prints them).
    """

    def __init__(
        self,
        relay_url: str,
        track_factory: TrackFactory,
        *,
        say: Callable[[str], None] = _quiet,
        on_guidance: Callable[[Pointer | KeyGuide | KeyGuideClear], None] | None = None,
    ) -> None:
        self.relay_url = relay_url
        self._track_factory = track_factory
        self._say = say
        self.guidance: list[Pointer | KeyGuide | KeyGuideClear] = []
        self._on_guidance = on_guidance or self.guidance.append
        self._code: asyncio.Future[str] | None = None
        self._pending: set[asyncio.Future[None]] = set()
        self.session: AgentSession | None = None
        self.task: asyncio.Task[SessionEnded] | None = None

    def start(self) -> None:
        from agent.session import AgentSession

        self._code = asyncio.get_running_loop().create_future()
        self.session = AgentSession(
            self.relay_url,
            track_factory=self._track_factory,
            on_event=self._on_event,
            on_guidance=self._on_guidance,
        )
        self.task = asyncio.ensure_future(self.session.run(consent_accepted=True))
        self._say("customer: agreed to the terms")

    def _on_event(self, event: AgentEvent) -> None:
        from agent.session import CodeShown, OperatorAsking, SessionEnded

        if isinstance(event, CodeShown):
            self._say(f"customer: my code is {event.code} (valid {event.expires_in_s:.0f} s)")
            if self._code is not None and not self._code.done():
                self._code.set_result(event.code)
        elif isinstance(event, OperatorAsking):
            op = event.operator
            self._say(f"customer: {op.display_name} of {op.organisation} wants to see my screen -> Allow")
            assert self.session is not None
            self._pending.add(asyncio.ensure_future(self.session.decide(True)))
        elif isinstance(event, SessionEnded):
            self._say(
                f"customer: session ended ({event.reason}, by {event.by}) after {event.shared_seconds:.1f} s"
            )

    async def code(self, timeout: float = 20.0) -> str:
        if self._code is None:
            raise HarnessError("the customer was not started")
        try:
            return await asyncio.wait_for(asyncio.shield(self._code), timeout)
        except TimeoutError:
            raise HarnessError("the agent never showed a code") from None

    async def ended(self, timeout: float = 10.0) -> SessionEnded:
        if self.task is None:
            raise HarnessError("the customer was not started")
        try:
            return await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            raise HarnessError("the agent's session did not end") from None

    async def close(self) -> None:
        if self.session is not None and self.task is not None and not self.task.done():
            await self.session.stop()
            await asyncio.wait_for(self.task, 10)


async def expect(operator: OperatorClient, kind: type[EventT], timeout: float, what: str) -> EventT:
    """The next operator event of type ``kind``; HarnessError(what) on timeout, refusal or end."""
    from operator_console.client import RefusedEvent, SessionEndedEvent

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HarnessError(what)
        try:
            event: Any = await operator.next_event(remaining)
        except TimeoutError:
            raise HarnessError(what) from None
        if isinstance(event, kind):
            return event
        if isinstance(event, RefusedEvent | SessionEndedEvent) and kind is not SessionEndedEvent:
            raise HarnessError(f"{what}: {event}")


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
