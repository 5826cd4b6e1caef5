"""The scripted customer: a real :class:`agent.session.AgentSession` whose decisions a program makes.

Nothing here is a stand-in. The customer agrees to the terms, shows its code and
clicks Allow (or Deny, or never answers) exactly where a person would; the demo,
the benchmarks and the tests all use this one class. ``say`` receives one line per
step a person would see (the demo prints them). Heavy imports (aiortc, mss) happen
when a customer starts, not when this module is imported.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from protocol import GuidanceMessage, KeyGuide, KeyGuideClear, Pointer

if TYPE_CHECKING:
    from agent.session import AgentEvent, AgentSession, SessionEnded
    from agent.track import ScreenTrack

__all__ = ["Customer", "TestbedError"]


class TestbedError(RuntimeError):
    """A scripted session did not get where it should (the message says what was expected)."""

    __test__ = False  # not a pytest test class


def _quiet(_: str) -> None:
    pass


@dataclasses.dataclass
class Customer:
    """One customer's agent on the running loop.

    The screen comes from ``track_factory`` or, if none is given, from capturing
    ``display`` at ``max_fps``.
    """

    relay_url: str
    display: str | None = None
    track_factory: Callable[[], ScreenTrack] | None = None
    max_fps: float = 15
    allow: bool | None = True
    """True: Allow, False: Deny, None: never answer."""
    operator_code: str | None = None
    send_system_info: bool = True
    """The agent collects and sends the real system information of this machine after Allow."""
    reconnect_delays_s: Sequence[float] = (0.5, 1.0, 2.0, 3.0, 5.0)
    initial_guidance: Callable[[], Sequence[GuidanceMessage]] = tuple
    say: Callable[[str], None] = _quiet
    ssl_context: ssl.SSLContext | None = None
    """Trust for the relay's https (and, the same CA, for TURN over TLS)."""
    proxy: str | None = None
    """An HTTP proxy for the signaling websocket (client_core.proxy); None: automatic."""
    on_guidance: Callable[[Pointer | KeyGuide | KeyGuideClear], None] | None = None
    """Called with each guidance message; by default they are collected in ``guidance``."""
    events: list[AgentEvent] = dataclasses.field(default_factory=list)
    guidance: list[Pointer | KeyGuide | KeyGuideClear] = dataclasses.field(default_factory=list)
    tracks: list[ScreenTrack] = dataclasses.field(default_factory=list)
    allowed_at: float | None = None
    """``time.monotonic()`` when the customer clicked Allow."""
    session: AgentSession | None = None
    task: asyncio.Task[SessionEnded] | None = None
    _code: asyncio.Future[str] | None = None
    _pending: set[asyncio.Future[None]] = dataclasses.field(default_factory=set)

    def start(self) -> None:
        """Agree to the terms and connect (on the running loop)."""
        from agent.session import AgentSession

        self._code = asyncio.get_running_loop().create_future()
        self.session = AgentSession(
            self.relay_url,
            track_factory=self._make_track,
            on_event=self._on_event,
            on_guidance=self.on_guidance or self.guidance.append,
            initial_guidance=self.initial_guidance,
            operator_code=self.operator_code,
            send_system_info=self.send_system_info,
            reconnect_delays_s=self.reconnect_delays_s,
            ssl_context=self.ssl_context,
            proxy=self.proxy,
        )
        self.task = asyncio.ensure_future(self.session.run(consent_accepted=True))
        self.say("customer: agreed to the terms")

    def _make_track(self) -> ScreenTrack:
        if self.track_factory is not None:
            track = self.track_factory()
        else:
            from agent.capture import create_source
            from agent.track import ScreenTrack

            track = ScreenTrack(create_source(self.display), max_fps=self.max_fps)
        self.tracks.append(track)
        return track

    def _on_event(self, event: AgentEvent) -> None:
        from agent.session import CodeAssigned, OperatorAsking, SessionEnded

        self.events.append(event)
        if isinstance(event, CodeAssigned):
            self.say(f"customer: my code is {event.code} (valid {event.expires_in_s:.0f} s)")
            if self._code is not None and not self._code.done():
                self._code.set_result(event.code)
        elif isinstance(event, OperatorAsking) and self.allow is not None:
            op = event.operator
            verb = "Allow" if self.allow else "Deny"
            self.say(f"customer: {op.display_name} of {op.organisation} wants to see my screen -> {verb}")
            assert self.session is not None
            if self.allow:
                self.allowed_at = time.monotonic()
            self._pending.add(asyncio.ensure_future(self.session.decide(self.allow)))
        elif isinstance(event, SessionEnded):
            self.say(
                f"customer: session ended ({event.reason}, by {event.by}) after {event.shared_seconds:.1f} s"
            )

    async def wait_code(self, timeout: float = 20.0) -> str:
        """The code the agent shows; TestbedError if it shows none in time."""
        if self._code is None:
            raise TestbedError("the customer was not started")
        try:
            return await asyncio.wait_for(asyncio.shield(self._code), timeout)
        except TimeoutError:
            raise TestbedError("the agent never showed a code") from None

    async def ended(self, timeout: float = 10.0) -> SessionEnded:
        if self.task is None:
            raise TestbedError("the customer was not started")
        try:
            return await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            raise TestbedError("the agent's session did not end") from None

    async def stop(self) -> None:
        """Stop the agent as the customer's Stop button does, and wait for its session to end."""
        if self.session is not None and self.task is not None and not self.task.done():
            await self.session.stop()
            await asyncio.wait_for(self.task, 10)

    async def pause(self, paused: bool) -> None:
        assert self.session is not None
        self.session.pause(paused)

    def pointers(self) -> list[Pointer]:
        return [g for g in list(self.guidance) if isinstance(g, Pointer)]
