"""A CPU budget for the agent: lower the frame rate before the customer's machine chokes.

On a slow PC (R21: 1 GHz, 1-4 GB) encoding a busy 1080p screen at 30 frames a second
would take more than a core: frames queue up, everything on the customer's machine
slows down, and the operator sees a picture that freezes and jumps. The budget
measures the process's CPU time per second of wall time and, when it is over
``core_share`` of one core, lowers the grab rate in proportion (never below
``min_fps``); when the process is well under budget again the rate climbs back by
a quarter per window up to ``max_fps``. A slow PC gets a smooth lower frame rate
instead of a frozen screen; a fast one never notices.

Pure: the clocks are injectable, so the controller is tested without burning CPU.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["CpuBudget"]

logger = logging.getLogger(__name__)

_RECOVER_BELOW = 0.8
"""Climb back only when under this fraction of the budget (hysteresis against hunting)."""
_RECOVER_STEP = 1.25


class CpuBudget:
    """Frame-rate controller over the process's CPU use. Thread-safe."""

    def __init__(
        self,
        max_fps: float,
        *,
        core_share: float = 0.7,
        min_fps: float = 5.0,
        window_s: float = 1.0,
        cpu_clock: Callable[[], float] = time.process_time,
        wall_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < min_fps <= max_fps:
            raise ValueError("need 0 < min_fps <= max_fps")
        if core_share <= 0 or window_s <= 0:
            raise ValueError("core_share and window_s must be positive")
        self.max_fps = max_fps
        self.min_fps = min_fps
        self.core_share = core_share
        self.window_s = window_s
        self._cpu_clock = cpu_clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._fps = max_fps
        self._mark: tuple[float, float] | None = None
        self.last_share: float | None = None
        """CPU share of one core measured over the last complete window."""

    @property
    def fps(self) -> float:
        with self._lock:
            return self._fps

    def update(self) -> float:
        """Note the clocks; at the end of each window adjust and return the allowed fps."""
        wall = self._wall_clock()
        cpu = self._cpu_clock()
        with self._lock:
            if self._mark is None:
                self._mark = (wall, cpu)
                return self._fps
            elapsed = wall - self._mark[0]
            if elapsed < self.window_s:
                return self._fps
            share = (cpu - self._mark[1]) / elapsed
            self._mark = (wall, cpu)
            self.last_share = share
            old = self._fps
            if share > self.core_share:
                self._fps = max(self.min_fps, old * self.core_share / share)
            elif share < _RECOVER_BELOW * self.core_share and old < self.max_fps:
                self._fps = min(self.max_fps, old * _RECOVER_STEP)
            if abs(self._fps - old) >= 0.5:
                logger.info(
                    "CPU %.0f%% of a core (budget %.0f%%): frame rate %.1f -> %.1f",
                    share * 100,
                    self.core_share * 100,
                    old,
                    self._fps,
                )
            return self._fps
