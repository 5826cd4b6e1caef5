"""Where decoded video frames land on the operator side.

The sink keeps only the latest frame (the UI paints the newest, never a queue of
stale ones) plus the counters the status bar shows. Conversion to RGB happens
once per frame here, off the UI thread.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import cast

import numpy as np
import numpy.typing as npt
from av import VideoFrame

__all__ = ["FrameSink", "RGBImage"]

RGBImage = npt.NDArray[np.uint8]
"""(height, width, 3) uint8 RGB."""


class FrameSink:
    """Latest decoded frame as RGB numpy, with fps over a sliding window."""

    def __init__(
        self, window_s: float = 2.0, on_frame: Callable[[RGBImage, float], None] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._latest: RGBImage | None = None
        self._times: collections.deque[float] = collections.deque()
        self._window = window_s
        self.frames_received = 0
        self.frames_dropped = 0
        self._taken = False
        self._unseen = False
        self.first_frame_at: float | None = None
        self.last_frame_at: float | None = None
        self.on_frame = on_frame

    def push(self, frame: VideoFrame) -> RGBImage:
        now = time.monotonic()
        image = cast(RGBImage, frame.to_ndarray(format="rgb24"))
        with self._lock:
            if self._taken and self._unseen:
                self.frames_dropped += 1
            self._latest = image
            self._unseen = True
            self.frames_received += 1
            if self.first_frame_at is None:
                self.first_frame_at = now
            self.last_frame_at = now
            self._times.append(now)
            while self._times and now - self._times[0] > self._window:
                self._times.popleft()
        if self.on_frame is not None:
            self.on_frame(image, now)
        return image

    def latest(self) -> RGBImage | None:
        """The newest frame, without marking it seen."""
        with self._lock:
            return self._latest

    def take(self) -> RGBImage | None:
        """The newest frame if it arrived since the last take (for a viewer), else None.

        Once a viewer takes frames, frames it never got are counted as dropped.
        """
        with self._lock:
            self._taken = True
            if not self._unseen:
                return None
            self._unseen = False
            return self._latest

    def fps(self) -> float:
        with self._lock:
            now = time.monotonic()
            while self._times and now - self._times[0] > self._window:
                self._times.popleft()
            if len(self._times) < 2:
                return 0.0
            span = max(now - self._times[0], 1e-6)
            return (len(self._times) - 1) / span
