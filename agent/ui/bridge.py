"""Between the Qt windows and the network: one :class:`AgentSession` at a time on a loop thread.

The UI thread never waits on the network. It calls the methods here, which hand
the work to :class:`client_core.loop_thread.LoopThread`; what happens comes back
as Qt signals, emitted on the loop thread and queued by Qt to the UI thread.

Every attempt (Agree, "new number", "try again") is a fresh ``AgentSession``
with a generation number; events of an attempt that was replaced are dropped,
so a late "ended" from the old attempt can never close the new one's screen.

Capture: the screen track is created by the session core's ``StartPeer``
effect, which comes only after the customer's Allow; the bridge only says which
monitor it should show.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from agent.events import SessionEnded
from agent.ui.terms import Terms, TermsUnavailable, fetch_terms
from client_core.loop_thread import LoopThread
from protocol import (
    EndReason,
    KeyGuide,
    KeyGuideClear,
    KeyGuideClosed,
    MonitorInfo,
    Monitors,
    Pointer,
    Scope,
    SysInfoReport,
)

if TYPE_CHECKING:
    from aiortc import MediaStreamTrack

    from agent.session import AgentSession
    from agent.track import ScreenTrack

__all__ = ["SessionBridge", "TrackFactory", "list_monitors", "preload_media_stack", "screen_track"]

logger = logging.getLogger(__name__)

TrackFactory = Callable[[int, int], "MediaStreamTrack"]
"""``factory(area, monitor_count)`` -> the video track; ``area == monitor_count`` is the whole desktop."""

DEFAULT_FPS = 15.0
"""Enough for guidance (pointing, reading), light on the 1 GHz PCs of R21."""


def preload_media_stack() -> None:
    """Import the session's media stack (aiortc, PyAV, numpy: most of start-up).

    The windows never import it themselves, so the consent screen shows first; the
    bridge calls this on its loop thread right away, while the customer reads the
    terms, so Agree does not wait for it either.
    """
    import agent.session
    import agent.track  # noqa: F401


_PRELOAD_DELAY_MS = 300
_preload_started = threading.Event()


def _start_preload() -> None:
    if not _preload_started.is_set():
        _preload_started.set()
        threading.Thread(target=preload_media_stack, name="madoguchi-preload", daemon=True).start()


def screen_track(area: int, monitor_count: int) -> ScreenTrack:
    """The real screen of this machine, showing capture area ``area``."""
    from agent.capture import create_source
    from agent.track import ScreenTrack

    source = create_source()
    source.select(None if area >= monitor_count else area)
    return ScreenTrack(source, max_fps=DEFAULT_FPS)


def list_monitors() -> list[MonitorInfo]:
    """This machine's monitors as the capture backend numbers them; [] if it cannot capture."""
    from agent.capture import CaptureError, create_source

    try:
        with create_source() as source:
            return source.monitors()
    except CaptureError as exc:
        logger.warning("cannot list monitors: %s", exc)
        return []


class SessionBridge(QObject):
    agent_event = Signal(object)
    """An :data:`agent.session.AgentEvent` of the current attempt."""
    guidance = Signal(object)
    """``Pointer`` / ``KeyGuide`` / ``KeyGuideClear`` from the operator, current attempt only."""
    terms_ready = Signal(object)
    """:class:`Terms` or :class:`TermsUnavailable`."""
    failed = Signal(str)
    """The attempt crashed (a bug or an unusable machine); the text is for the log."""
    system_info_preview = Signal(object)
    """The PC information as it would be sent (a ``SysInfoReport``), read on this
    computer only, for the customer to look at before deciding; ``None`` if unreadable."""

    _raw_event = Signal(int, object)
    _raw_guidance = Signal(int, object)
    _raw_failed = Signal(int, str)

    def __init__(
        self,
        relay_url: str,
        *,
        locale: str = "ja",
        monitors: list[MonitorInfo] | None = None,
        track_factory: TrackFactory = screen_track,
        session_options: Mapping[str, Any] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.relay_url = relay_url
        self.locale = locale
        self.monitors: list[MonitorInfo] = list_monitors() if monitors is None else list(monitors)
        primary = next((m.index for m in self.monitors if m.primary), 0)
        self.selected = primary
        """The capture area to share: a monitor index, ``len(monitors)`` for the whole desktop."""
        self._track_factory = track_factory
        self._options = dict(session_options or {})
        self._loop = LoopThread("madoguchi-agent-net")
        self._generation = 0
        self._stopped_generation = 0
        """The newest attempt the customer stopped; read on the loop thread (an int: atomic)."""
        self._running = 0
        self._session: AgentSession | None = None
        self._task: asyncio.Task[SessionEnded] | None = None
        self._raw_event.connect(self._deliver_event)
        self._raw_guidance.connect(self._deliver_guidance)
        self._raw_failed.connect(self._deliver_failed)
        # Load the media stack once the first window has painted, off the UI thread.
        QTimer.singleShot(_PRELOAD_DELAY_MS, _start_preload)

    # --- UI thread API -----------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def active(self) -> bool:
        """An attempt is registered or registering and has not ended."""
        return self._running > 0

    def start(self, *, consent_accepted: bool) -> None:
        """Register with the relay (ending the previous attempt first, if any).

        The customer's Agree is the only caller; ``consent_accepted`` is passed on
        to the core, which refuses to register without it.
        """
        if not consent_accepted:
            raise ValueError("the customer has not agreed to the terms")
        self._generation += 1
        self._running += 1
        logger.info("attempt %d: starting", self._generation)
        self._loop.submit(self._run(self._generation))

    def decide(self, allowed: bool, *, timed_out: bool = False, system_info: bool = True) -> None:
        self._submit_to_session(lambda s: s.decide(allowed, timed_out=timed_out, system_info=system_info))

    @property
    def system_info_scope(self) -> Scope | None:
        """What the PC information would contain ("detailed" or "normal"); ``None``: never sent."""
        if not self._options.get("send_system_info", True):
            return None
        scope: Scope = self._options.get("sysinfo_scope", "detailed")
        return scope

    def preview_system_info(self) -> concurrent.futures.Future[None]:
        """Read the PC information here, without sending it (``system_info_preview``)."""
        return self._loop.submit(self._preview_system_info(self.system_info_scope or "detailed"))

    def stop(self) -> None:
        """End the attempt now (Stop, Cancel, window closed): media first, then the goodbye."""
        self._stopped_generation = self._generation
        self._submit_to_session(lambda s: s.stop())

    def pause(self, paused: bool) -> None:
        def apply() -> None:
            if self._session is not None:
                self._session.pause(paused)

        self._loop.call_soon(apply)

    def key_guide_closed(self) -> None:
        """The customer closed the keyboard guide: tell the operator, whose console shows it."""

        def apply() -> None:
            if self._session is not None:
                self._session.send_guidance(KeyGuideClosed())

        self._loop.call_soon(apply)

    def select_monitor(self, area: int) -> None:
        """Share another monitor (or ``len(monitors)``: all) from the next frame on."""
        self.selected = area
        self._loop.call_soon(lambda: self._apply_monitor(area))

    def fetch_terms(self, lang: str) -> concurrent.futures.Future[None]:
        return self._loop.submit(self._fetch_terms(lang))

    def shutdown(self, timeout: float = 5.0) -> None:
        """End any attempt (telling the operator) and stop the network thread."""
        if self._loop.loop.is_running():
            future = self._loop.submit(self._stop_current())
            try:
                future.result(timeout)
            except (concurrent.futures.TimeoutError, RuntimeError) as exc:
                logger.warning("session did not end in time at shutdown: %r", exc)
        self._loop.stop()

    # --- loop thread -----------------------------------------------------------------

    async def _run(self, generation: int) -> None:
        await self._stop_current()
        if self._stopped_generation >= generation:
            # Stopped while the previous attempt was still ending: never register.
            self._raw_event.emit(generation, SessionEnded(EndReason.NORMAL, "agent", None, 0.0))
            self._raw_event.emit(generation, _AttemptOver())
            return
        from agent.session import AgentSession

        session = AgentSession(
            self.relay_url,
            track_factory=lambda: self._track_factory(self.selected, len(self.monitors)),
            on_event=lambda e: self._raw_event.emit(generation, e),
            on_guidance=lambda m: self._raw_guidance.emit(generation, m),
            initial_guidance=self._initial_guidance,
            locale=self.locale,
            **self._options,
        )
        self._session = session
        task = asyncio.ensure_future(session.run(consent_accepted=True))
        self._task = task
        try:
            await task
        except Exception as exc:
            logger.exception("attempt %d crashed", generation)
            self._raw_failed.emit(generation, f"{type(exc).__name__}: {exc}")
        finally:
            if self._session is session:
                self._session = None
                self._task = None
            self._raw_event.emit(generation, _AttemptOver())

    async def _stop_current(self) -> None:
        session, task = self._session, self._task
        if session is None or task is None or task.done():
            return
        await session.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5.0)
        except TimeoutError:
            logger.warning("previous attempt did not end within 5 s")

    def _submit_to_session(self, action: Callable[[AgentSession], Any]) -> None:
        async def run() -> None:
            if self._session is not None:
                await action(self._session)

        self._loop.submit(run())

    def _initial_guidance(self) -> list[Monitors]:
        if not self.monitors:
            return []
        return [Monitors(monitors=tuple(self.monitors), active=self.selected)]

    def _apply_monitor(self, area: int) -> None:
        session = self._session
        if session is None:
            return
        from agent.capture import CaptureError
        from agent.track import ScreenTrack

        track = session.track
        if isinstance(track, ScreenTrack):
            try:
                track.select(None if area >= len(self.monitors) else area)
            except CaptureError:
                logger.exception("cannot switch to monitor %d", area)
                return
        session.send_guidance(Monitors(monitors=tuple(self.monitors), active=area))

    async def _preview_system_info(self, scope: Scope) -> None:
        from agent.sysinfo import collect_async, to_report

        report: SysInfoReport | None
        try:
            report = to_report(await collect_async(scope))
        except Exception:
            logger.exception("system information could not be read for the preview")
            report = None
        self.system_info_preview.emit(report)

    async def _fetch_terms(self, lang: str) -> None:
        result: Terms | TermsUnavailable
        try:
            result = await fetch_terms(self.relay_url, lang)
        except TermsUnavailable as exc:
            logger.warning("%s", exc)
            result = exc
        self.terms_ready.emit(result)

    # --- UI thread: filter by generation -------------------------------------------------

    def _deliver_event(self, generation: int, event: object) -> None:
        if isinstance(event, _AttemptOver):
            self._running = max(0, self._running - 1)
            return
        if generation == self._generation:
            self.agent_event.emit(event)
        else:
            logger.debug("dropped %s of replaced attempt %d", type(event).__name__, generation)

    def _deliver_guidance(self, generation: int, message: object) -> None:
        if generation == self._generation and isinstance(message, Pointer | KeyGuide | KeyGuideClear):
            self.guidance.emit(message)

    def _deliver_failed(self, generation: int, text: str) -> None:
        if generation == self._generation:
            self.failed.emit(text)


class _AttemptOver:
    """Internal marker: the attempt's task has finished (after its SessionEnded)."""
