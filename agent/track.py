"""The agent's video track: the shared screen as an aiortc ``MediaStreamTrack``.

Send-on-change: a grabber thread grabs at most ``max_fps`` times a second and the
track returns a frame from :meth:`ScreenTrack.recv` only when the picture differs
from the previous grab. While the screen is static ``recv()`` blocks, so aiortc's
sender encodes and sends nothing; ``keepalive_s`` after the last frame it repeats the
picture so a receiver that lost a packet still converges (and a stock aiortc receiver,
which holds each frame until the next one arrives, shows the last change), then again
at doubling intervals up to ``keepalive_max_s``: a long-static screen costs almost
nothing. When the receiver asks for a keyframe (PLI), :meth:`ScreenTrack.request_frame`
repeats the picture at once instead of waiting for the next change.

With ``watch_changes`` (the default) the grabber does not even grab a static screen:
it sleeps until the source's change notifier (X DAMAGE) reports drawing and grabs
right then; sources without a notifier are grabbed on every tick. ``cpu_share``
bounds the agent's CPU use by lowering the frame rate (:class:`CpuBudget`).

Privacy: nothing is grabbed before the first ``recv()``. aiortc starts pulling only
once the peer connection is up, which the agent allows only after the customer
clicked Allow. While paused nothing is grabbed at all.

Frames are wrapped without copying (``VideoFrame.from_numpy_buffer`` over the grab's
own buffer); the BGRA -> YUV conversion happens inside the encoder. A large screen
arrives already shrunk by the source (a whole factor, :mod:`agent.capture.downscale`):
frames have the picture's size while ``MonitorInfo`` stays in screen pixels, so the
track needs no coordinate mapping of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fractions
import logging
import time
from collections.abc import Callable

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agent.capture import CapturedFrame, CaptureError, ChangeDetector, CpuBudget, Grabber, ScreenSource
from protocol import MonitorInfo

__all__ = [
    "DEFAULT_CPU_SHARE",
    "VIDEO_CLOCK_RATE",
    "VIDEO_TIME_BASE",
    "FrameCallback",
    "ScreenTrack",
    "TrackStats",
    "to_video_frame",
]

logger = logging.getLogger(__name__)

VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)

DEFAULT_CPU_SHARE = 0.7
"""Share of one core the agent may use before the frame rate goes down (see CpuBudget)."""

_MIN_FPS = 5.0
"""The CPU budget never lowers the frame rate below this (a slideshow, not a freeze)."""

FrameCallback = Callable[[CapturedFrame, int], None]
"""``on_frame(captured, pts)``: called on the loop thread for every frame ``recv()`` returns."""


def to_video_frame(image: npt.NDArray[np.uint8]) -> av.VideoFrame:
    """Wrap a BGRA image as an ``av.VideoFrame`` without copying its pixels.

    An odd last column or row is left out: 4:2:0 encoders need even sizes (libx264 does
    not even open for odd ones), and cropping a view keeps it zero-copy because
    PyAV takes the row stride as the line size.
    """
    height, width = image.shape[:2]
    return av.VideoFrame.from_numpy_buffer(image[: height - height % 2, : width - width % 2], format="bgra")


@dataclasses.dataclass(frozen=True)
class TrackStats:
    """Counters since the track started; ``sent`` includes ``keepalives``."""

    captured: int
    sent: int
    skipped_unchanged: int
    keepalives: int
    dropped: int


class ScreenTrack(MediaStreamTrack):
    """A send-on-change video track over a :class:`ScreenSource`.

    ``max_fps`` caps grabs (and so frames) per second. ``keepalive_s`` is how long a
    static screen may go without a frame (``None``: never repeat); each further repeat
    waits twice as long, up to ``keepalive_max_s`` (``None``: always ``keepalive_s``). ``on_frame`` sees
    each returned frame with its pts (benchmarks map painted stamps to capture
    times with it). With ``close_source`` the track closes the source when it stops.
    ``watch_changes`` grabs only when the source reports drawing (if it can);
    ``cpu_share`` (None: unlimited) is the CPU budget in shares of one core.
    """

    kind = "video"

    def __init__(
        self,
        source: ScreenSource,
        *,
        max_fps: float = 30.0,
        keepalive_s: float | None = 1.5,
        keepalive_max_s: float | None = 12.0,
        on_frame: FrameCallback | None = None,
        close_source: bool = True,
        watch_changes: bool = True,
        cpu_share: float | None = DEFAULT_CPU_SHARE,
    ) -> None:
        super().__init__()
        if max_fps <= 0:
            raise ValueError("max_fps must be positive")
        if keepalive_s is not None and keepalive_s <= 0:
            raise ValueError("keepalive_s must be positive or None")
        if keepalive_max_s is not None and keepalive_s is not None and keepalive_max_s < keepalive_s:
            raise ValueError("keepalive_max_s must be at least keepalive_s")
        self._source = source
        self._keepalive_s = keepalive_s
        self._keepalive_max_s = keepalive_max_s if keepalive_max_s is not None else keepalive_s
        self._repeats_in_a_row = 0
        self._repeat = asyncio.Event()
        self._on_frame = on_frame
        self._close_source = close_source
        self._detector = ChangeDetector()
        self.budget = (
            CpuBudget(max_fps, core_share=cpu_share, min_fps=min(_MIN_FPS, max_fps))
            if cpu_share is not None
            else None
        )
        self._grabber = Grabber(
            source,
            fps=max_fps,
            accept=self._accept,
            notifier=source.change_notifier if watch_changes else None,
            budget=self.budget,
        )
        self._paused = False
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._started = False
        self._t0: float | None = None
        self._last: CapturedFrame | None = None
        self._last_sent_at = 0.0
        self._last_pts = -1
        self._skipped = 0
        self._sent = 0
        self._keepalives = 0

    # --- state ------------------------------------------------------------------

    @property
    def source(self) -> ScreenSource:
        return self._source

    @property
    def started(self) -> bool:
        """True once the first ``recv()`` started capturing."""
        return self._started

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def watching_changes(self) -> bool:
        """True while grabs wait for the source's change notifications (X DAMAGE)."""
        return self._grabber.watching

    @property
    def stats(self) -> TrackStats:
        return TrackStats(
            captured=self._grabber.grabs,
            sent=self._sent,
            skipped_unchanged=self._skipped,
            keepalives=self._keepalives,
            dropped=self._grabber.dropped,
        )

    def pause(self) -> None:
        """Stop capturing; ``recv()`` returns nothing (not even keep-alives) until :meth:`resume`."""
        if self._paused:
            return
        self._paused = True
        self._resumed.clear()
        self._grabber.pause()
        logger.info("screen track: sharing -> paused")

    def resume(self) -> None:
        """Capture again; the first grab after resuming is always sent."""
        if not self._paused:
            return
        self._paused = False
        # Wait for a fresh grab rather than repeating the pre-pause picture.
        self._last = None
        self._detector.reset()
        self._grabber.request_grab()
        self._grabber.resume()
        self._resumed.set()
        logger.info("screen track: paused -> sharing")

    def select(self, index: int | None) -> MonitorInfo:
        """Share another monitor (``None``: the whole desktop); the next frame has its size."""
        info = self._source.select(index)
        self._last = None  # a keep-alive must never repeat the previous area
        self._detector.reset()
        self._grabber.request_grab()  # the new area must be sent even if nothing is drawn
        # Frames of the old area still queued are dropped in recv() by their monitor.
        return info

    def stop(self) -> None:
        super().stop()
        self._grabber.stop()
        self._resumed.set()
        if self._close_source:
            self._source.close()
        logger.info("screen track stopped: %s", self.stats)

    # --- frames -----------------------------------------------------------------

    def _accept(self, frame: CapturedFrame) -> CapturedFrame | None:
        # Runs on the grabber thread, so the comparison never blocks the event loop; the
        # change found travels with the frame to the encoder, which converts only that band.
        change = self._detector.change(frame.image)
        if change is None:
            self._skipped += 1
            return None
        return dataclasses.replace(frame, change=change)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._started:
            self._started = True
            self._grabber.start()
            logger.info("screen track: first frame requested, capture starts")
        while True:
            if self._paused:
                await self._resumed.wait()
                if self.readyState != "live":
                    raise MediaStreamError
                continue
            if self._repeat.is_set():
                self._repeat.clear()
                if self._last is not None:
                    self._keepalives += 1
                    return self._emit(self._last, time.monotonic(), repeat=True)
            timeout = None
            if self._keepalive_s is not None and self._last is not None:
                interval = min(self._keepalive_s * 2**self._repeats_in_a_row, self._keepalive_max_s or 0.0)
                timeout = max(0.0, self._last_sent_at + interval - time.monotonic())
            getter = asyncio.ensure_future(self._grabber.queue.get())
            repeat = asyncio.ensure_future(self._repeat.wait())
            try:
                done, _ = await asyncio.wait(
                    {getter, repeat}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                getter.cancel()
                repeat.cancel()
            if getter not in done:
                if repeat in done:
                    continue  # request_frame(): handled at the top of the loop
                if self._paused or self._last is None:
                    continue
                self._keepalives += 1
                return self._emit(self._last, time.monotonic(), repeat=True)
            item = getter.result()
            if item is None or self.readyState != "live":
                raise MediaStreamError
            if isinstance(item, CaptureError):
                logger.error("screen capture failed: %s", item)
                raise MediaStreamError(str(item)) from item
            if self._paused or item.monitor != self._source.selected:
                continue
            return self._emit(item, item.captured_at)

    def request_frame(self) -> None:
        """Send the current picture again now (the receiver asked for a keyframe).

        Without this a static screen would leave a receiver that lost a frame waiting
        for the next change or keep-alive. Ignored before the first frame and while paused.
        """
        self._repeat.set()

    def _emit(self, captured: CapturedFrame, at: float, *, repeat: bool = False) -> av.VideoFrame:
        self._repeats_in_a_row = self._repeats_in_a_row + 1 if repeat else 0
        if self._t0 is None:
            self._t0 = at
        # pts from the capture clock so RTP timestamps reflect real timing, forced
        # strictly increasing because encoders reject repeated pts.
        pts = max(round((at - self._t0) * VIDEO_CLOCK_RATE), self._last_pts + 1)
        self._last_pts = pts
        self._last = captured
        self._last_sent_at = time.monotonic()
        self._sent += 1
        frame = to_video_frame(captured.image)
        # A repeat carries no change: the encoder sees the same buffer again.
        frame.opaque = None if repeat else captured.change
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        if self._on_frame is not None:
            try:
                self._on_frame(captured, pts)
            except Exception:
                logger.exception("on_frame callback failed")
        return frame
