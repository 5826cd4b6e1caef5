"""The bottleneck's rate, from how long a burst of packets takes to arrive (receiver side, sans-IO).

A frame of many packets (a keyframe above all) leaves the sender back to back, or paced
at a known multiple of its cap; at the narrowest link of the path the packets queue and
come out at that link's rate. So the spread of their arrival times gives the link's
capacity: ``bytes / (last arrival - first arrival)`` over the train's second half
("packet-train dispersion"; the first half may pass a shaper's burst allowance). It
needs no history, so it is known when the first keyframe is in - unlike
aiortc 1.16's delay-based estimator, which sends nothing in its first 3 s and then
climbs about 8 % a second from what it received, i.e. from whatever the sender guessed.

:class:`PathProbe` takes every RTP packet of one stream (arrival in ms, sequence number,
RTP timestamp, marker, size) and answers a sample whenever a train of at least
``min_packets`` ends (its marker packet, or the first packet of a newer frame).
Retransmissions and packets of older frames are ignored. ``capacity()`` is the median
of the last ``keep`` samples: arrival times are when the receiver read a packet, so a
receiver busy for a moment stretches one train (a sample too low) or reads a queue of
packets at once (a sample far too high: 11 Mbit/s on the 2 Mbit/s ``dsl`` link, seen);
a sender pacing below the link gives a lower bound, and the next train, paced at 1.5 x
the lower cap, measures more again.

Used by :mod:`client_core.rtc_tuning` (``install_path_probe``): the operator answers
the first sample with a REMB at once and keeps every REMB between ``FLOOR`` and
``HEADROOM`` times the capacity (the sender then never keeps the bottleneck's buffer full).
"""

from __future__ import annotations

import collections
import dataclasses
import statistics

__all__ = ["FLOOR", "HEADROOM", "PathProbe", "Train"]

HEADROOM = 0.85
"""Share of the measured capacity a REMB may grant: room for RTCP, retransmissions and
signaling on the same link, and a queue that drains (the issue's "sent <= 90 % of the link")."""
FLOOR = 0.5
"""Share of the measured capacity a REMB always grants. aiortc's delay-based estimator
answers queueing with 0.85 x what arrived, and on a busy PC it sees queueing in its own
scheduling delays as often as on the link: followed at once on a slow path, that spiralled
the `dsl` scroll from 1.6 down to 1.2 Mbit/s and 7 fps in 5 s (load 11). A link that
really got slower shows in the next trains (the capacity is their median)."""


@dataclasses.dataclass
class Train:
    timestamp: int
    last_seq: int
    arrivals: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    """(arrival in ms, size in bytes) of every packet, in order."""

    @property
    def packets(self) -> int:
        return len(self.arrivals)

    def rate_bps(self) -> float:
        """The rate of the train's second half. The first packets of a burst often pass a
        token-bucket shaper at once (its burst allowance; Linux TBF, a router's) and would
        make the link look faster than it is; by the middle of the train the queue is there."""
        middle = len(self.arrivals) // 2
        start = self.arrivals[middle][0]
        after = self.arrivals[middle + 1 :]
        # Arrival times are whole milliseconds: a train that arrived within one is "at least" this.
        spread = max(1, self.arrivals[-1][0] - start)
        return sum(size for _, size in after) * 8 * 1000 / spread


def _newer(a: int, b: int) -> bool:
    """16-bit sequence numbers: True if ``a`` comes after ``b``."""
    return a != b and ((a - b) & 0xFFFF) < 0x8000


class PathProbe:
    def __init__(self, *, min_packets: int = 10, keep: int = 5) -> None:
        if min_packets < 2 or keep < 1:
            raise ValueError("need min_packets >= 2 and keep >= 1")
        self.min_packets = min_packets
        self._samples: collections.deque[float] = collections.deque(maxlen=keep)
        self._train: Train | None = None
        self._ssrc: int | None = None
        self.trains = 0

    def add(
        self, ssrc: int, arrival_ms: int, *, seq: int, timestamp: int, marker: bool, size: int
    ) -> float | None:
        """One packet; returns a new capacity sample (bit/s) when it ended a long enough train."""
        if self._ssrc is None:
            self._ssrc = ssrc
        if ssrc != self._ssrc:
            return None  # retransmissions (RTX) and other streams
        train = self._train
        sample = None
        if train is not None and timestamp != train.timestamp:
            if not _newer(seq, train.last_seq):
                return None  # a late packet of an older frame
            sample = self._close()
            train = None
        if train is None:
            self._train = Train(timestamp, seq, [(arrival_ms, size)])
        elif _newer(seq, train.last_seq):
            train.last_seq = seq
            train.arrivals.append((arrival_ms, size))
        else:
            return sample  # a repaired packet of this frame: it was not part of the burst
        if marker:
            sample = self._close() or sample
        return sample

    def _close(self) -> float | None:
        train, self._train = self._train, None
        if train is None or train.packets < self.min_packets:
            return None
        self.trains += 1
        rate = train.rate_bps()
        self._samples.append(rate)
        return rate

    def capacity(self) -> float | None:
        """The link's rate in bit/s as far as measured (the median of recent samples), or None."""
        return statistics.median(self._samples) if self._samples else None

    def ceiling(self) -> float | None:
        """The most a REMB may grant: ``HEADROOM`` x ``capacity()``."""
        capacity = self.capacity()
        return None if capacity is None else HEADROOM * capacity

    def floor(self) -> float | None:
        """The least a REMB grants: ``FLOOR`` x ``capacity()``."""
        capacity = self.capacity()
        return None if capacity is None else FLOOR * capacity
