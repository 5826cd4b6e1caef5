"""A packet pacer for RTP video, sans-IO: spreads a frame's packets at a multiple of the target rate.

aiortc 1.16 sends every packet of a frame back to back: a keyframe of a text screen
(hundreds of kilobytes) leaves in one burst and overflows a slow link's bottleneck
buffer. libwebrtc paces at 2.5 x the target bitrate; :class:`Pacer` is a token bucket
doing the same: ``delay(size)`` says how long to hold a packet of ``size`` bytes so
that the packets leave at ``rate`` (a callable: it follows the encoder's cap), with
a burst of ``burst_s`` worth of data, at least ``min_burst_bytes`` (a dozen full
packets: an ordinary P-frame of a screen leaves unpaced, a keyframe is spread), allowed
at once.

Installed on a sender by :mod:`client_core.rtc_tuning` (the I/O glue); times come
from an injected clock, in seconds.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PACING_FACTOR", "Pacer"]

PACING_FACTOR = 1.5
"""Packets leave at this multiple of the encoder's cap. libwebrtc uses 2.5, for frames
sized to its target; a 1080p text keyframe cannot shrink below ~75 KB even at QP 51 -
more than a DSL router's 250 ms buffer - and at 2.5x the cap (itself ~0.85 x the path
estimate) it overflowed that buffer; at 1.5x it leaves at about the path's rate."""


class Pacer:
    def __init__(
        self,
        clock: Callable[[], float],
        rate_bps: Callable[[], float | None],
        *,
        burst_s: float = 0.010,
        min_burst_bytes: int = 12 * 1200,
    ) -> None:
        self._clock = clock
        self._rate = rate_bps
        self.burst_s = burst_s
        self.min_burst_bytes = min_burst_bytes
        self._next_free: float | None = None  # when the bucket is empty again (virtual send time)
        self.delayed = 0
        self.delayed_s = 0.0

    def delay(self, size: int, *, priority: bool = False) -> float:
        """Seconds to hold a packet of ``size`` bytes before sending it (0: now); accounts for it.

        A ``priority`` packet (a retransmission: a frame, and every frame after it, waits
        for it at the receiver) leaves at once and is counted, so what comes after it
        waits for it instead; libwebrtc's pacer sends retransmissions first too."""
        rate = self._rate()
        now = self._clock()
        if rate is None or rate <= 0:
            self._next_free = None
            return 0.0
        bytes_per_s = rate / 8.0
        burst = max(self.min_burst_bytes, bytes_per_s * self.burst_s) / bytes_per_s
        start = now if self._next_free is None or priority else max(now, self._next_free - burst)
        self._next_free = max(now, self._next_free or now) + size / bytes_per_s
        wait = start - now
        if wait > 0:
            self.delayed += 1
            self.delayed_s += wait
        return wait

    def queued_s(self) -> float:
        """How far behind the pacer is: seconds until everything accounted for has left."""
        if self._next_free is None:
            return 0.0
        return max(0.0, self._next_free - self._clock())
