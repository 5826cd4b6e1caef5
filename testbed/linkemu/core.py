"""Sans-IO link emulator: per packet, when to release it or whether to drop it.

The glue hands every packet to :meth:`LinkCore.arrive` with the current time and
asks :meth:`LinkCore.due` which held packets may now go. The core decides:

* inside an outage window every packet is dropped;
* otherwise a packet is lost with the profile's probability (seeded random, so a
  run can be repeated);
* a kept packet is held for the one-way delay. The delay is constant, so packets
  leave in the order they came (no reordering) and a FIFO is enough.

Times are seconds on any monotonic clock; the outage windows count from the first
packet's time unless ``start`` is given.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["LinkCore", "LinkCounters", "Outage"]

T = TypeVar("T")


@dataclass(frozen=True)
class Outage:
    """The link drops everything from ``start`` for ``duration`` seconds (relative to the core's start)."""

    start: float
    duration: float

    def covers(self, t: float) -> bool:
        return self.start <= t < self.start + self.duration


@dataclass
class LinkCounters:
    arrived: int = 0
    lost: int = 0
    dropped_in_outage: int = 0
    released: int = 0


@dataclass
class LinkCore(Generic[T]):
    """Decides per packet (``T`` is whatever the glue uses to name a packet, e.g. its queue id)."""

    delay: float = 0.0
    loss: float = 0.0
    outages: tuple[Outage, ...] = ()
    seed: int = 0
    start: float | None = None
    counters: LinkCounters = field(default_factory=LinkCounters)

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError("loss must be within [0, 1]")
        self._random = random.Random(self.seed)
        self._held: deque[tuple[float, T]] = deque()

    def in_outage(self, now: float) -> bool:
        if self.start is None:
            return False
        t = now - self.start
        return any(o.covers(t) for o in self.outages)

    def arrive(self, packet: T, now: float) -> bool:
        """Take a packet; False means drop it now (lost or in an outage), True means it is held."""
        if self.start is None:
            self.start = now
        self.counters.arrived += 1
        if self.in_outage(now):
            self.counters.dropped_in_outage += 1
            return False
        if self.loss and self._random.random() < self.loss:
            self.counters.lost += 1
            return False
        self._held.append((now + self.delay, packet))
        return True

    def due(self, now: float) -> list[T]:
        """The held packets whose delay is over, in arrival order."""
        out: list[T] = []
        while self._held and self._held[0][0] <= now:
            out.append(self._held.popleft()[1])
        self.counters.released += len(out)
        return out

    def next_deadline(self) -> float | None:
        """When the next held packet is due (None: nothing held)."""
        return self._held[0][0] if self._held else None

    @property
    def held(self) -> int:
        return len(self._held)
