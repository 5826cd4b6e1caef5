"""Blocking grabs on a named thread, delivered to an asyncio queue.

The thread grabs at a fixed pace (the frame-rate cap), asks an optional ``accept``
filter whether the frame is worth delivering (the track's change test runs here, off
the event loop), and hands accepted frames to the loop with latest-frame semantics:
the queue holds at most ``maxsize`` frames and a new frame replaces the oldest, so a
slow consumer always gets the freshest picture and memory stays bounded.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from .base import CapturedFrame, CaptureError, ScreenSource

__all__ = ["Grabber", "GrabberItem"]

logger = logging.getLogger(__name__)

GrabberItem = CapturedFrame | CaptureError | None
"""What the queue carries: a frame, the error that stopped the thread, or ``None`` at the end."""

_MAX_CONSECUTIVE_FAILURES = 3
_IDLE_POLL_S = 0.2


class Grabber:
    """Owns the grab thread for one :class:`ScreenSource`.

    :meth:`start`, :meth:`pause`, :meth:`resume` and :meth:`stop` are called from the
    event loop thread; ``queue`` is read there. A few consecutive grab failures end
    the thread and put the :class:`CaptureError` in the queue; ``None`` follows
    :meth:`stop` so a waiting consumer wakes up.
    """

    def __init__(
        self,
        source: ScreenSource,
        *,
        fps: float = 30.0,
        accept: Callable[[CapturedFrame], bool] | None = None,
        maxsize: int = 1,
        name: str = "madoguchi-grab",
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self._source = source
        self.interval = 1.0 / fps
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

    def _run(self) -> None:
        failures = 0
        next_tick = time.monotonic()
        while not self._quit.is_set():
            if not self._active.is_set():
                self._active.wait(_IDLE_POLL_S)
                # After a pause, grab right away rather than on the stale schedule.
                next_tick = time.monotonic()
                continue
            now = time.monotonic()
            if now < next_tick:
                self._quit.wait(next_tick - now)
                continue
            # Never try to catch up after a stall: that would burst frames.
            next_tick = max(next_tick + self.interval, now)
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
            self.grabs += 1
            if not self._active.is_set() or self._quit.is_set():
                continue  # paused during the grab: this frame must not leave the thread
            if self._accept is not None and not self._accept(frame):
                continue
            if not self._deliver(frame):
                break
        logger.debug("grabber %s exiting", self._name)
