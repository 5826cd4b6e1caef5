"""The receiver's video jitter buffer: complete frames only, in order, never stale.

aiortc 1.16's ``JitterBuffer`` (video: a 512-packet ring) has three faults on a real
network:

* it releases a frame only when the first packet of the *next* frame arrives (one
  frame interval on every frame; with send-on-change the last picture before a quiet
  screen waits for the sender's keep-alive);
* on a gap that is never repaired it stalls, and once it overflows it releases one
  frame per arriving packet: seconds of stale pictures replayed after a drop-out;
* a frame over 512 packets (a keyframe over about 665 KB: 2560x1440 and 4K text
  screens) can never be assembled.

:class:`FrameBuffer` replaces it, as libwebrtc's frame buffer does:

* packets are held by their unwrapped sequence number (a dict, not a ring), up to
  ``max_packets`` (8,192 by default: a 4K text keyframe is 2-3 MB, ~2,500 packets);
* a frame is released as soon as all its packets are here, from its first to its
  RTP-marked last one (RFC 6184/7741; a frame followed by a packet of another
  timestamp counts as ended too, for senders that do not mark);
* frames leave in order, and only while the chain of references is unbroken; when a
  packet is past repair (``forget``, told by the NACK generator, or the head has
  waited ``max_wait``) the chain is broken: everything up to the next frame that
  starts a keyframe is dropped and a keyframe is requested (``add`` answers
  ``pli=True``, at most once per ``keyframe_interval``);
* a complete keyframe behind a gap is released at once and every older frame is
  dropped: a picture older than one already shown is never decoded, never replayed;
* several frames completed by one packet (a repair) all leave: ``add`` returns the
  first, :meth:`take_ready` the others (the glue in :mod:`client_core.rtc_tuning`
  hands them to aiortc's decoder queue).

Sans-IO: the clock and the keyframe test are injected. Verified against aiortc
1.16.0 (``JitterBuffer``/``JitterFrame`` and the ``_data`` aiortc's receiver attaches
to each depayloaded packet); :mod:`client_core.rtc_tuning` refuses to install it on
another version.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

__all__ = [
    "FrameBuffer",
    "FrameBufferCounters",
    "ReadyFrame",
    "h264_payload_starts_keyframe",
    "h264_starts_keyframe",
    "vp8_starts_keyframe",
]

MAX_PACKETS = 8192
"""Packets held at most: a 4K text keyframe (2-3 MB) is about 2,500."""

_START_CODE = b"\x00\x00\x00\x01"


def h264_starts_keyframe(data: bytes) -> bool:
    """True if depayloaded H.264 ``data`` (Annex B, as aiortc's depayloader gives it) starts a
    picture a decoder can begin with: an SPS first (after an optional delimiter or SEI).

    An IDR slice alone is not enough: without the parameter sets in front (x264 and
    libwebrtc repeat them before every IDR) a decoder joining there fails on every frame.
    """
    offset = 0
    while data.startswith(_START_CODE, offset) and len(data) > offset + 4:
        nal_type = data[offset + 4] & 0x1F
        if nal_type == 7:  # SPS: only ever at the start of an access unit
            return True
        if nal_type not in (6, 9):  # SEI, access unit delimiter may come first
            return False
        following = data.find(_START_CODE, offset + 4)
        if following < 0:
            return False
        offset = following
    return False


def h264_payload_starts_keyframe(payload: bytes) -> bool:
    """True if an H.264 RTP payload (RFC 6184: single NAL, STAP-A or FU-A) begins with an SPS."""
    if len(payload) < 2:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type == 24:  # STAP-A: the first aggregated unit follows its 2-byte size
        return len(payload) > 3 and payload[3] & 0x1F == 7
    if nal_type == 28:  # FU-A: the start of a fragmented NAL unit
        return bool(payload[1] & 0x80) and payload[1] & 0x1F == 7
    return nal_type == 7


def vp8_starts_keyframe(data: bytes) -> bool:
    """True if depayloaded VP8 ``data`` starts a key frame (RFC 6386 frame tag and start code)."""
    return len(data) >= 6 and not data[0] & 0x01 and data[3:6] == b"\x9d\x01\x2a"


def _starts_keyframe(packet: RtpPacket) -> bool:
    return h264_starts_keyframe(getattr(packet, "_data", b""))


@dataclass
class ReadyFrame:
    """A released frame and the payload type of its packets (for the decoder's codec)."""

    frame: JitterFrame
    payload_type: int


@dataclass
class FrameBufferCounters:
    released: int = 0
    keyframes_released: int = 0
    dropped_packets: int = 0
    jumps: int = 0
    """Times a complete keyframe was released past older, incomplete frames."""
    chain_breaks: int = 0
    """Times a packet past repair (or an overflow) broke the chain of references."""
    late_packets: int = 0
    overflows: int = 0
    keyframe_requests: int = 0


class FrameBuffer(JitterBuffer):
    """Stands in for aiortc's video ``JitterBuffer``: ``add(packet)`` -> ``(pli, frame)``."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        starts_keyframe: Callable[[RtpPacket], bool] = _starts_keyframe,
        max_packets: int = MAX_PACKETS,
        max_wait: float = 1.0,
        keyframe_interval: float = 1.0,
    ) -> None:
        # aiortc's ring (``_packets``) is not used; the base keeps ``capacity`` meaningful.
        super().__init__(capacity=_power_of_two(max_packets), is_video=True)
        self._clock = clock
        self.starts_keyframe = starts_keyframe
        """Whether a (depayloaded) packet starts a keyframe; the glue sets it per codec."""
        self.max_packets = max_packets
        self.max_wait = max_wait
        self.keyframe_interval = keyframe_interval
        self._held: dict[int, RtpPacket] = {}
        self._key_starts: set[int] = set()
        self._lost: set[int] = set()
        self._highest: int | None = None
        self._next: int | None = None  # the first sequence number not yet released or dropped
        self._continuous = False  # True: ``_next`` starts a frame the decoder can take
        self._scan: tuple[int, int] | None = None  # (position, timestamp) checked from _next
        self._blocked_since: float | None = None
        self._last_request: float | None = None
        self._want_keyframe = False
        self._dropped = False
        self._ready: deque[ReadyFrame] = deque()
        self.on_skip: Callable[[int], None] | None = None
        """Told the 16-bit sequence number below which everything was dropped (the NACK
        generator then stops asking for those packets)."""
        self.counters = FrameBufferCounters()

    # -- aiortc's interface ---------------------------------------------------------------

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        now = self._clock()
        seq = self._unwrap(packet.sequence_number)
        if self._next is None:
            self._next = seq
        if seq < self._next or seq in self._held:
            self.counters.late_packets += 1
            return self._request(now), None
        self._held[seq] = packet
        if self.starts_keyframe(packet):
            self._key_starts.add(seq)
        if self._highest is None or seq > self._highest:
            self._highest = seq
        if len(self._held) > self.max_packets:
            self.counters.overflows += 1
            while len(self._held) > self.max_packets:
                self._drop_head()
            self._break_chain()
        completes = bool(packet.marker) or seq in self._key_starts or seq != self._highest
        self._advance(now, look_ahead=completes)
        pli = self._request(now)
        ready = self._ready.popleft() if self._ready else None
        return pli, ready.frame if ready else None

    # aiortc 1.16's receiver calls only ``add``; the base class's ring helpers are called
    # only from the base ``add``, replaced above. A call means aiortc changed: say so loudly.
    def remove(self, count: int) -> None:
        raise RuntimeError("FrameBuffer keeps no ring: remove() is not part of it (aiortc changed?)")

    def smart_remove(self, count: int) -> bool:
        raise RuntimeError("FrameBuffer keeps no ring: smart_remove() is not part of it (aiortc changed?)")

    # -- extensions -----------------------------------------------------------------------

    def take_ready(self) -> list[ReadyFrame]:
        """Frames released by the last ``add`` beyond the one it returned, oldest first."""
        frames = list(self._ready)
        self._ready.clear()
        return frames

    def forget(self, sequence_numbers: Iterable[int]) -> None:
        """These packets will never arrive (the NACK generator declared them past repair)."""
        if self._highest is None or self._next is None:
            return
        for seq16 in sequence_numbers:
            seq = self._unwrap(seq16)
            if seq >= self._next and seq not in self._held:
                self._lost.add(seq)

    @property
    def held(self) -> int:
        return len(self._held)

    @property
    def continuous(self) -> bool:
        return self._continuous

    # -- internals --------------------------------------------------------------------------

    def _unwrap(self, seq16: int) -> int:
        if self._highest is None:
            return (1 << 20) + seq16
        delta = (seq16 - self._highest) & 0xFFFF
        if delta >= 0x8000:
            delta -= 0x10000
        return self._highest + delta

    def _request(self, now: float) -> bool:
        if not self._want_keyframe:
            return False
        if self._last_request is not None and now - self._last_request < self.keyframe_interval:
            return False
        self._want_keyframe = False
        self._last_request = now
        self.counters.keyframe_requests += 1
        return True

    def _advance(self, now: float, *, look_ahead: bool) -> None:
        self._advance_loop(now, look_ahead=look_ahead)
        if self._dropped:
            self._dropped = False
            if self.on_skip is not None and self._next is not None:
                self.on_skip(self._next & 0xFFFF)

    def _advance_loop(self, now: float, *, look_ahead: bool) -> None:
        while self._next is not None and self._highest is not None and self._next <= self._highest:
            head = self._next
            if head in self._lost:
                self._drop_head()
                self._break_chain()
                continue
            if head not in self._held:
                if self._blocked_since is None:
                    self._blocked_since = now
                if look_ahead and self._jump_to_keyframe():
                    continue
                if now - self._blocked_since >= self.max_wait:
                    self._lost.add(head)  # waited long enough: past repair
                    continue
                return
            self._blocked_since = None
            if not self._continuous and head not in self._key_starts:
                self._drop_head()  # not decodable until a keyframe
                self._want_keyframe = True
                continue
            end = self._frame_end(head)
            if end is None:
                continue  # broken by a lost packet (chain broken), or the head moved
            if end < 0:
                # Incomplete: wait for the missing packet, or jump to a complete keyframe.
                if self._blocked_since is None:
                    self._blocked_since = now
                if look_ahead and self._jump_to_keyframe():
                    continue
                if now - self._blocked_since >= self.max_wait:
                    self._lost.add(-end)
                    continue
                return
            self._release(head, end)

    def _frame_end(self, start: int) -> int | None:
        """The last sequence number of the complete frame starting at ``start``; ``-missing``
        if a packet is still missing; None if a lost packet broke it (then it was dropped)."""
        timestamp = self._held[start].timestamp
        position = start
        if self._scan is not None and self._scan[1] == timestamp and self._scan[0] >= start:
            position = self._scan[0]
        while True:
            packet = self._held.get(position)
            if packet is None:
                if position in self._lost:
                    self._break_chain()
                    self._drop_head()  # the rest of the frame goes as undecodable
                    return None
                self._scan = (position - 1, timestamp) if position > start else None
                return -position
            if packet.timestamp != timestamp:
                self._scan = None
                return position - 1  # the next frame began: this one ended unmarked
            if packet.marker:
                self._scan = None
                return position
            position += 1

    def _jump_to_keyframe(self) -> bool:
        """Release the newest complete keyframe past the head, dropping all before it."""
        for start in sorted((s for s in self._key_starts if s > (self._next or 0)), reverse=True):
            end = self._complete_from(start)
            if end is None:
                continue
            while self._next is not None and self._next < start:
                self._drop_head()
            self._lost = {s for s in self._lost if s >= start}
            self.counters.jumps += 1
            self._continuous = True
            self._release(start, end)
            return True
        return False

    def _complete_from(self, start: int) -> int | None:
        timestamp = self._held[start].timestamp
        position = start
        while True:
            packet = self._held.get(position)
            if packet is None or packet.timestamp != timestamp:
                return position - 1 if packet is not None else None
            if packet.marker:
                return position
            position += 1

    def _release(self, start: int, end: int) -> None:
        packets = [self._held.pop(s) for s in range(start, end + 1)]
        self._key_starts.discard(start)
        self._lost.discard(start)
        keyframe = self.starts_keyframe(packets[0])
        # ``_data`` is the depayloaded payload aiortc's receiver attaches to each packet.
        data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
        frame = JitterFrame(data=data, timestamp=packets[0].timestamp)
        self._ready.append(ReadyFrame(frame, packets[0].payload_type))
        self._next = end + 1
        self._continuous = True
        self._scan = None
        self._blocked_since = None
        self.counters.released += 1
        if keyframe:
            self.counters.keyframes_released += 1
            self._want_keyframe = False

    def _drop_head(self) -> None:
        assert self._next is not None
        head = self._next
        if self._held.pop(head, None) is not None:
            self.counters.dropped_packets += 1
        self._key_starts.discard(head)
        self._lost.discard(head)
        self._next = head + 1
        self._scan = None
        self._blocked_since = None
        self._dropped = True

    def _break_chain(self) -> None:
        if self._continuous:
            self.counters.chain_breaks += 1
        self._continuous = False
        self._want_keyframe = True
        self._scan = None


def _power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())
