"""Drive the console against real peers: for the UI tests and the screenshot script.

:class:`PeerWorld` runs a real relay and real customer agents
(:class:`agent.session.AgentSession` capturing an X display) on a loop thread of
their own, so a test can block the Qt side (``qtbot.waitUntil``) while the
network keeps running. :func:`picture_display` puts the deterministic ``picture``
scene on a private Xvfb. Nothing here is a fake: it is the same code the demo
runs, with the customer's decisions scripted where a person would click.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from agent.capture import create_source
from agent.session import AgentEvent, AgentSession, CodeShown, OperatorAsking, SessionEnded
from agent.track import ScreenTrack
from madoguchi.loop_thread import LoopThread
from madoguchi.scene import SceneProcess
from madoguchi.tcp_link import BreakableLink
from madoguchi.xvfb import VirtualDisplay
from protocol import GuidanceMessage, KeyGuide, KeyGuideClear, Pointer
from relay.server import RunningRelay, running_relay

__all__ = ["Customer", "PeerWorld", "RelayLink", "mouse", "picture_display"]

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


@dataclasses.dataclass
class Customer:
    """One customer's agent; lives on the world's loop."""

    relay_url: str
    display: str
    allow: bool | None = True
    """True: Allow, False: Deny, None: never answer."""
    operator_code: str | None = None
    send_system_info: bool = True
    """The agent collects and sends the real system information of this machine after Allow."""
    reconnect_delays_s: Sequence[float] = (0.5, 1.0, 2.0, 3.0, 5.0)
    initial_guidance: Callable[[], Sequence[GuidanceMessage]] = tuple
    events: list[AgentEvent] = dataclasses.field(default_factory=list)
    guidance: list[Pointer | KeyGuide | KeyGuideClear] = dataclasses.field(default_factory=list)
    tracks: list[ScreenTrack] = dataclasses.field(default_factory=list)
    session: AgentSession | None = None
    task: asyncio.Task[SessionEnded] | None = None
    code: asyncio.Future[str] | None = None
    _pending: set[asyncio.Future[None]] = dataclasses.field(default_factory=set)

    async def start(self) -> None:
        self.code = asyncio.get_running_loop().create_future()
        self.session = AgentSession(
            self.relay_url,
            track_factory=self._make_track,
            on_event=self._on_event,
            on_guidance=self.guidance.append,
            initial_guidance=self.initial_guidance,
            operator_code=self.operator_code,
            send_system_info=self.send_system_info,
            reconnect_delays_s=self.reconnect_delays_s,
        )
        self.task = asyncio.ensure_future(self.session.run(consent_accepted=True))

    def _make_track(self) -> ScreenTrack:
        track = ScreenTrack(create_source(self.display), max_fps=15)
        self.tracks.append(track)
        return track

    def _on_event(self, event: AgentEvent) -> None:
        self.events.append(event)
        if isinstance(event, CodeShown) and self.code is not None and not self.code.done():
            self.code.set_result(event.code)
        if isinstance(event, OperatorAsking) and self.allow is not None:
            assert self.session is not None
            self._pending.add(asyncio.ensure_future(self.session.decide(self.allow)))

    async def wait_code(self, timeout: float = 10.0) -> str:
        assert self.code is not None
        return await asyncio.wait_for(asyncio.shield(self.code), timeout)

    async def ended(self, timeout: float = 10.0) -> SessionEnded:
        assert self.task is not None
        return await asyncio.wait_for(asyncio.shield(self.task), timeout)

    async def stop(self) -> None:
        if self.session is not None and self.task is not None and not self.task.done():
            await self.session.stop()
            await asyncio.wait_for(self.task, 10)

    async def pause(self, paused: bool) -> None:
        assert self.session is not None
        self.session.pause(paused)

    def pointers(self) -> list[Pointer]:
        return [g for g in list(self.guidance) if isinstance(g, Pointer)]


RelayLink = BreakableLink
"""The customer's network link to the relay, breakable by tests (madoguchi.tcp_link)."""


class PeerWorld:
    """A real relay plus customers, on their own asyncio thread."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, **relay_overrides: Any) -> None:
        """``ssl_context``: the relay's server side (https); ``relay_overrides``: config keys."""
        self.loop = LoopThread("peer-world")
        self._stack = contextlib.AsyncExitStack()
        self.customers: list[Customer] = []
        try:
            self.relay: RunningRelay = self.call(
                self._stack.enter_async_context(running_relay(ssl_context=ssl_context, **relay_overrides))
            )
        except BaseException:
            self.loop.stop()
            raise

    @property
    def url(self) -> str:
        return self.relay.url

    def run_on_loop(self, action: Callable[[], object]) -> None:
        """Run a plain callable on the world's loop thread and wait for it."""

        async def wrapper() -> None:
            action()

        self.call(wrapper())

    def call(self, coro: Coroutine[Any, Any, _T], timeout: float = 30.0) -> _T:
        """Run ``coro`` on the world's loop and wait for its result."""
        return self.loop.submit(coro).result(timeout)

    def add_operator(self, username: str, password: str, display_name: str, organisation: str) -> None:
        self.relay.add_operator(username, password, display_name, organisation)

    def link(self) -> RelayLink:
        """A breakable path to the relay, for ``customer(..., relay_url=...)``."""
        link = RelayLink(self.relay.port)
        self.call(link.start())
        self._stack.push_async_callback(link.close)
        return link

    def customer(self, display: str, *, relay_url: str | None = None, **fields: Any) -> Customer:
        """Start a customer's agent; with the default ``operator_code=None`` it shows a 4-digit code."""
        customer = Customer(relay_url or self.url, display, **fields)
        self.customers.append(customer)
        self.call(customer.start())
        return customer

    def close(self) -> None:
        for customer in self.customers:
            try:
                self.call(customer.stop())
            except Exception as exc:
                logger.warning("customer did not stop: %s", exc)
        try:
            self.call(self._stack.aclose())
        finally:
            self.loop.stop()


def mouse(
    widget: QWidget, kind: str, pos: QPointF | QPoint, button: Qt.MouseButton = Qt.MouseButton.NoButton
) -> None:
    """Deliver a real mouse event to ``widget`` (a move, press or release) at ``pos``.

    Sent through ``QApplication.sendEvent`` so it takes the same path as a mouse
    over the view, on any platform plugin (offscreen has no pointer to move).
    """
    types = {
        "move": QEvent.Type.MouseMove,
        "press": QEvent.Type.MouseButtonPress,
        "release": QEvent.Type.MouseButtonRelease,
    }
    local = QPointF(pos)
    global_pos = QPointF(widget.mapToGlobal(local.toPoint()))
    buttons = button if kind == "press" else Qt.MouseButton.NoButton
    event = QMouseEvent(types[kind], local, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
