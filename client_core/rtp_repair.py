"""Loss repair for RTP video, sans-IO: the sender's packet history and the receiver's NACK generator.

aiortc 1.16 keeps 128 packets of history on the sender and forgets gaps older than
128 packets on the receiver; a 1080p text keyframe is about 490 packets, so most
losses inside one can never be repaired. Here, as libwebrtc does:

* :class:`PacketHistory` keeps every sent packet for ``max(1 s, 3 x RTT)`` and at
  least ``min_packets``, at most ``max_packets`` (9,600, libwebrtc's cap);
* :class:`NackGenerator` remembers each gap until it is repaired, NACKs it again once
  per RTT (estimated from NACK-to-repair times), and declares it past repair after
  ``max_tries`` NACKs or when the sender's history no longer holds it; then it asks
  for a keyframe at once (``on_past_repair``), at most once per ``keyframe_interval``,
  and tells the receiver's frame buffer which packets will never come (``on_lost``).

Both are installed on aiortc objects by :mod:`client_core.rtc_tuning` (the I/O glue);
times come from an injected clock, in seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["NackGenerator", "PacketHistory", "RepairCounters"]


def _seq_gt(a: int, b: int) -> bool:
    """a is after b in 16-bit sequence space."""
    return a != b and ((a - b) & 0xFFFF) < 0x8000


class PacketHistory:
    """Sent packets by full sequence number, shaped to stand in for aiortc's history dict.

    aiortc stores ``history[seq % 128] = packet`` and retransmits what
    ``history.get(seq % 128)`` gives if its sequence number matches. ``__setitem__``
    keys by the packet's own sequence number instead; the glue looks a NACKed packet
    up with :meth:`lookup` and hands it to aiortc through ``pending`` (what ``get`` answers).
    """

    def __init__(
        self,
        clock: Callable[[], float],
        rtt: Callable[[], float | None] = lambda: None,
        *,
        min_age: float = 1.0,
        min_packets: int = 1024,
        max_packets: int = 9600,
        min_resend_interval: float = 0.040,
    ) -> None:
        self._clock = clock
        self._rtt = rtt
        self.min_age = min_age
        self.min_packets = min_packets
        self.max_packets = max_packets
        self._packets: OrderedDict[int, tuple[float, Any]] = OrderedDict()
        self.pending: Any = None
        self.on_request: Callable[[int], None] | None = None
        self.starts_keyframe: Callable[[bytes], bool] | None = None
        """Whether an RTP payload starts a keyframe (set per codec by the glue)."""
        self.dropped_before_keyframes = 0
        """Called for every retransmission request (the encoder reads losses from them)."""
        self._resent: dict[int, float] = {}
        self.min_resend_interval = min_resend_interval
        self.served = 0
        self.missed = 0
        self.suppressed = 0

    def horizon(self) -> float:
        rtt = self._rtt()
        return max(self.min_age, 3 * rtt) if rtt is not None else self.min_age

    def __setitem__(self, _key: int, packet: Any) -> None:
        now = self._clock()
        seq = int(packet.sequence_number)
        if self.starts_keyframe is not None and self.starts_keyframe(packet.payload):
            # Nothing before a keyframe is worth resending: the receiver shows the keyframe
            # as soon as it is complete and drops every older frame. Resending the rest of a
            # keyframe a slow link lost would only delay the one that replaces it.
            self.dropped_before_keyframes += len(self._packets)
            self._packets.clear()
        self._packets.pop(seq, None)
        self._packets[seq] = (now, packet)
        horizon = self.horizon()
        while len(self._packets) > self.max_packets or (
            len(self._packets) > self.min_packets and now - next(iter(self._packets.values()))[0] > horizon
        ):
            self._packets.popitem(last=False)

    def get(self, _key: int, default: Any = None) -> Any:
        return self.pending if self.pending is not None else default

    def lookup(self, seq: int) -> Any:
        """The packet sent with ``seq``, or None if it has left the history or was already
        resent within the last RTT (its first copy may still be on its way: libwebrtc's rule)."""
        if self.on_request is not None:
            self.on_request(seq)
        entry = self._packets.get(seq)
        if entry is None:
            self.missed += 1
            return None
        now = self._clock()
        last = self._resent.get(seq)
        rtt = self._rtt()
        if last is not None and now - last < max(self.min_resend_interval, rtt or 0.0):
            self.suppressed += 1
            return None
        self._resent[seq] = now
        if len(self._resent) > self.max_packets:
            for old in [s for s in self._resent if s not in self._packets]:
                del self._resent[old]
        self.served += 1
        return entry[1]

    def __len__(self) -> int:
        return len(self._packets)

    def oldest_age(self) -> float:
        return self._clock() - next(iter(self._packets.values()))[0] if self._packets else 0.0


@dataclass
class RepairCounters:
    gaps: int = 0
    nacks_sent: int = 0
    repaired: int = 0
    past_repair: int = 0
    keyframe_requests: int = 0


@dataclass
class _Gap:
    first_seen: float
    outage: bool = False
    """Part of a gap that spans an outage (see ``NackGenerator.outage_media_s``): never NACKed."""
    last_nack: float | None = None
    first_nack: float | None = None
    tries: int = 0


class NackGenerator:
    """Stands in for aiortc's ``NackGenerator``: ``add(packet)`` True means "send a NACK
    for ``missing`` now" (new gaps, or old ones whose retry is due)."""

    def __init__(
        self,
        clock: Callable[[], float],
        on_past_repair: Callable[[int], None] = lambda ssrc: None,
        *,
        initial_rtt: float = 0.100,
        min_retry: float = 0.010,
        max_tries: int = 6,
        max_age: float = 1.0,
        max_gap_packets: int = 9600,
        keyframe_interval: float = 0.300,
        on_lost: Callable[[list[int]], None] | None = None,
        max_nack_list: int = 1000,
        retry_factor: float = 1.5,
        outage_media_s: float = 0.5,
        outage_min_packets: int = 30,
        clock_rate: int = 90_000,
    ) -> None:
        self._clock = clock
        self._on_past_repair = on_past_repair
        self._on_lost = on_lost
        self.rtt = initial_rtt
        self.min_retry = min_retry
        self.max_tries = max_tries
        self.max_age = max_age
        self.max_gap_packets = max_gap_packets
        self.keyframe_interval = keyframe_interval
        self.max_nack_list = max_nack_list
        self.retry_factor = retry_factor
        self.outage_media_s = outage_media_s
        """A gap of at least ``outage_min_packets`` whose two edges are further apart than
        this in media time (RTP timestamps) is an outage: what it lost was captured that
        long ago, and repairing it would only replay stale pictures after the link returns
        (a keyframe is requested instead). Loss inside a keyframe spans no media time; a
        quiet screen sends few packets, so a short gap across it is still repaired."""
        self.outage_min_packets = outage_min_packets
        self.clock_rate = clock_rate
        self.max_seq: int | None = None
        self._max_timestamp: int | None = None
        self._gaps: dict[int, _Gap] = {}
        self._due: set[int] = set()
        self._last_keyframe_request: float | None = None
        self.counters = RepairCounters()

    @property
    def missing(self) -> set[int]:
        """The sequence numbers to NACK now (what aiortc sends after ``add`` answered True)."""
        return set(self._due)

    @property
    def outstanding(self) -> set[int]:
        return set(self._gaps)

    def discard_before(self, seq: int) -> None:
        """Stop asking for packets before ``seq``: the receiver dropped them (it skipped
        to a keyframe), so they are no longer wanted."""
        for s in [s for s in self._gaps if _seq_gt(seq, s)]:
            del self._gaps[s]
        self._due.intersection_update(self._gaps)

    def add(self, packet: Any) -> bool:
        now = self._clock()
        seq = int(packet.sequence_number)
        timestamp = getattr(packet, "timestamp", None)
        if self.max_seq is None:
            self.max_seq = seq
            self._max_timestamp = timestamp
            return False
        if _seq_gt(seq, self.max_seq):
            outage = self._spans_outage(seq, timestamp)
            s = (self.max_seq + 1) & 0xFFFF
            while s != seq:
                self._gaps[s] = _Gap(first_seen=now, outage=outage)
                self.counters.gaps += 1
                s = (s + 1) & 0xFFFF
            self.max_seq = seq
            self._max_timestamp = timestamp
        else:
            gap = self._gaps.pop(seq, None)
            if gap is not None:
                self.counters.repaired += 1
                if gap.first_nack is not None:
                    # From the first NACK: an upper bound when that NACK or its answer was
                    # lost, but it includes the queueing a congested link adds - retrying
                    # sooner than that would only add to the queue.
                    sample = now - gap.first_nack
                    self.rtt = 0.875 * self.rtt + 0.125 * sample
        return self._schedule(now, int(packet.ssrc))

    def _spans_outage(self, seq: int, timestamp: int | None) -> bool:
        assert self.max_seq is not None
        missing = ((seq - self.max_seq) & 0xFFFF) - 1
        if missing < self.outage_min_packets or timestamp is None or self._max_timestamp is None:
            return False
        span = ((timestamp - self._max_timestamp) & 0xFFFFFFFF) / self.clock_rate
        return self.outage_media_s < span < 2**31 / self.clock_rate  # forward in time only

    def _schedule(self, now: float, ssrc: int) -> bool:
        retry = max(self.min_retry, self.retry_factor * self.rtt)
        assert self.max_seq is not None
        past: list[int] = []
        due: set[int] = set()
        # More missing than max_nack_list is an outage, not loss: asking for all of it would
        # flood the link on its return with packets mostly gone from the sender's history
        # (libwebrtc gives up at 1,000 too); a keyframe is cheaper.
        flood = len(self._gaps) > self.max_nack_list
        for s, gap in self._gaps.items():
            behind = (self.max_seq - s) & 0xFFFF
            if gap.outage or flood or behind > self.max_gap_packets or now - gap.first_seen > self.max_age:
                past.append(s)
            elif gap.last_nack is None or now - gap.last_nack >= retry:
                if gap.tries >= self.max_tries:
                    past.append(s)
                else:
                    due.add(s)
        for s in past:
            del self._gaps[s]
        for s in due:
            gap = self._gaps[s]
            gap.last_nack = now
            if gap.first_nack is None:
                gap.first_nack = now
            gap.tries += 1
        self._due = due
        if due:
            self.counters.nacks_sent += 1
        if past:
            self.counters.past_repair += len(past)
            if self._on_lost is not None:
                self._on_lost(past)
            if self._last_keyframe_request is None or now - self._last_keyframe_request >= max(
                self.keyframe_interval, 2 * self.rtt
            ):
                self._last_keyframe_request = now
                self.counters.keyframe_requests += 1
                self._on_past_repair(ssrc)
        return bool(due)
