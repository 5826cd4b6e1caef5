"""Blocking grabs on a named thread, delivered to an asyncio queue.

The thread grabs at most at the frame-rate cap, passes each frame through an optional
``accept`` filter that drops it or returns it annotated (the track's change test runs
here, off the event loop, and the change travels with the frame), and hands accepted
frames to the loop with latest-frame semantics: the queue holds at most ``maxsize``
frames and a new frame replaces the oldest, so a slow consumer always gets the
freshest picture and memory stays bounded.

With a change notifier (X DAMAGE, :mod:`agent.capture.damage`) the thread sleeps
until something is drawn and then grabs at once (still never faster than the cap),
so a static screen costs nothing and a change is grabbed without waiting for the
next tick; every ``idle_grab_s`` it grabs anyway, in case some drawing escaped the
notifier. Without one it grabs on every tick. An optional :class:`CpuBudget` lowers
the cap while the process uses more CPU than it may.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from .base import CapturedFrame, CaptureError, ScreenSource
from .budget import CpuBudget
from .damage import ChangeNotifier

__all__ = ["Grabber", "GrabberItem"]

logger = logging.getLogger(__name__)

GrabberItem = CapturedFrame | CaptureError | None
"""What the queue carries: a frame, the error that stopped the thread, or ``None`` at the end."""

_MAX_CONSECUTIVE_FAILURES = 3
_IDLE_POLL_S = 0.2
_BURST = 1.5
"""Token bucket capacity (see ``_grab_loop``): a grab may come half an interval early,
enough to follow a screen that repaints at our own rate, never two grabs back to back."""
_NOTIFIER_SLICE_S = 0.1
"""Longest single wait for a change, so pause/stop/request_grab are noticed quickly."""


class Grabber:
    """Owns the grab thread for one :class:`ScreenSource`.

    :meth:`start`, :meth:`pause`, :meth:`resume` and :meth:`stop` are called from the
    event loop thread; ``queue`` is read there. A few consecutive grab failures end
    the thread and put the :class:`CaptureError` in the queue; ``None`` follows
    :meth:`stop` so a waiting consumer wakes up.

    ``notifier`` is called on the grab thread when it starts and may return a
    :class:`ChangeNotifier` (the thread closes it when it ends); ``None`` or a
    factory returning ``None`` means grabbing on every tick.
    """

    def __init__(
        self,
        source: ScreenSource,
        *,
        fps: float = 30.0,
        accept: Callable[[CapturedFrame], CapturedFrame | None] | None = None,
        maxsize: int = 1,
        name: str = "madoguchi-grab",
        notifier: Callable[[], ChangeNotifier | None] | None = None,
        budget: CpuBudget | None = None,
        idle_grab_s: float = 1.0,
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        if idle_grab_s <= 0:
            raise ValueError("idle_grab_s must be positive")
        self._source = source
        self.interval = 1.0 / fps
        self._notifier_factory = notifier
        self._budget = budget
        self.idle_grab_s = idle_grab_s
        self._grab_now = threading.Event()
        self.watching = False
        """True while grabs wait for the notifier (False: grabbing on every tick)."""
        self._accept = accept
        self._name = name
        self.queue: asyncio.Queue[GrabberItem] = asyncio.Queue(maxsize=max(1, maxsize))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._quit = threading.Event()
        self._active = threading.Event()
        self._active.set()
        self.grabs = 0
        """Frames grabbed so far (accepted or not)."""
        self.dropped = 0
        """Accepted frames replaced in the queue before the consumer took them."""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        logger.debug("grabber %s started at %.1f fps", self._name, 1.0 / self.interval)

    def pause(self) -> None:
        """Stop grabbing (nothing is captured while paused) and drop undelivered frames."""
        self._active.clear()
        self._drain()

    def resume(self) -> None:
        self._active.set()

    def request_grab(self) -> None:
        """Grab at the next tick even if no change was notified (new area, resume)."""
        self._grab_now.set()

    def stop(self, timeout: float = 2.0) -> None:
        """End the thread and wake the consumer with ``None``; idempotent."""
        self._quit.set()
        self._active.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("grabber %s did not stop within %.1f s", self._name, timeout)
        self._offer(None)

    def _drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()

    def _offer(self, item: GrabberItem) -> None:
        # Runs on the loop thread: replace the oldest entry instead of blocking the grabs.
        if isinstance(item, CapturedFrame) and not self._active.is_set():
            return  # grabbed just before pause() and scheduled after it: never deliver
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)

    def _deliver(self, item: GrabberItem) -> bool:
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(self._offer, item)
        except RuntimeError:  # the loop closed between the check and the call
            return False
        return True

    def _open_notifier(self) -> ChangeNotifier | None:
        if self._notifier_factory is None:
            return None
        try:
            return self._notifier_factory()
        except Exception:
            logger.exception("change notifier failed to start: grabbing on every tick")
            return None

    def _run(self) -> None:
        notifier = self._open_notifier()
        self.watching = notifier is not None
        try:
            self._grab_loop(notifier)
        finally:
            self.watching = False
            if notifier is not None:
                notifier.close()
        logger.debug("grabber %s exiting", self._name)

    def _interval(self) -> float:
        return self.interval if self._budget is None else 1.0 / self._budget.fps

    def _grab_loop(self, notifier: ChangeNotifier | None) -> None:
        failures = 0
        next_tick = time.monotonic()
        # With a notifier the cap is a token bucket, not a grid: on average at most one
        # grab per interval, but a change is grabbed the moment it is drawn. A grid would
        # add a constant delay of up to one interval whenever the screen repaints at our
        # own rate, out of phase with us.
        tokens, refilled = 1.0, next_tick
        last_grab = -float("inf")
        force = True  # the first grab never waits for a change
        while not self._quit.is_set():
            if not self._active.is_set():
                self._active.wait(_IDLE_POLL_S)
                # After a pause, grab right away rather than on the stale schedule.
                next_tick = refilled = time.monotonic()
                tokens = 1.0
                force = True
                continue
            now = time.monotonic()
            if notifier is None:
                if now < next_tick:
                    self._quit.wait(next_tick - now)
                    continue
            else:
                tokens = min(_BURST, tokens + (now - refilled) / self._interval())
                refilled = now
                if tokens < 1.0:
                    self._quit.wait((1.0 - tokens) * self._interval())
                    continue
            idle_check = False
            if notifier is not None and not force and not self._grab_now.is_set():
                wait = min(_NOTIFIER_SLICE_S, last_grab + self.idle_grab_s - now)
                if wait > 0:
                    if not notifier.wait(wait):
                        continue  # nothing drawn yet: look at quit/pause/request again
                else:
                    idle_check = True  # nothing reported for idle_grab_s: look anyway
                now = time.monotonic()
            force = False
            self._grab_now.clear()
            interval = self.interval if self._budget is None else 1.0 / self._budget.update()
            if notifier is None:
                # On schedule: keep the grid. Late by a whole interval (a stall): restart
                # the grid from now, never catch up in a burst.
                next_tick = next_tick + interval if now - next_tick < interval else now + interval
            else:
                tokens -= 1.0
            try:
                frame = self._source.grab()
            except CaptureError as exc:
                failures += 1
                logger.warning("grab failed (%d in a row): %s", failures, exc)
                if failures >= _MAX_CONSECUTIVE_FAILURES:
                    self._deliver(exc)
                    break
                continue
            failures = 0
            last_grab = now
            self.grabs += 1
            if not self._active.is_set() or self._quit.is_set():
                continue  # paused during the grab: this frame must not leave the thread
            accepted = frame if self._accept is None else self._accept(frame)
            if accepted is None:
                if idle_check:
                    # A fruitless safety check must not delay the grab of a real change
                    # drawn right after it: it does not count against the rate cap.
                    tokens += 1.0
                continue
            if not self._deliver(accepted):
                break
