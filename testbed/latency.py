"""Capture-to-decoded latency from stamps painted into the shared picture.

The scene paints a counter into a fixed corner (testbed.stamp). On the agent
side ``on_captured`` reads the counter from each frame the track actually sends
and remembers when that frame was grabbed; on the operator side ``on_decoded``
reads the counter from each decoded picture and records ``decoded - captured``.
Both ends must run in one process (the demo, the benchmark), so both times come
from the same monotonic clock: no clock synchronisation is involved.
"""

from __future__ import annotations

import statistics
import threading

import numpy as np
import numpy.typing as npt

from testbed.stamp import StampError, read_stamp

__all__ = ["LatencyProbe"]


class LatencyProbe:
    def __init__(self, *, x: int = 0, y: int = 0, keep: int = 4096) -> None:
        self.x = x
        self.y = y
        self._keep = keep
        self._lock = threading.Lock()
        self._captured: dict[int, float] = {}
        self.samples_ms: list[float] = []
        self.unreadable = 0

    def _read(self, image: npt.NDArray[np.uint8]) -> int | None:
        try:
            return read_stamp(image, x=self.x, y=self.y)
        except StampError:
            return None

    def on_captured(self, image: npt.NDArray[np.uint8], captured_at: float) -> None:
        value = self._read(image)
        if value is None:
            return
        with self._lock:
            # The first capture of a counter is the one that matters.
            self._captured.setdefault(value, captured_at)
            if len(self._captured) > self._keep:
                for old in sorted(self._captured)[: len(self._captured) - self._keep]:
                    del self._captured[old]

    def on_decoded(self, image: npt.NDArray[np.uint8], decoded_at: float) -> None:
        value = self._read(image)
        if value is None:
            self.unreadable += 1
            return
        with self._lock:
            captured_at = self._captured.pop(value, None)
        if captured_at is not None:
            self.samples_ms.append((decoded_at - captured_at) * 1000.0)

    def median_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None

    def p95_ms(self) -> float | None:
        if not self.samples_ms:
            return None
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
