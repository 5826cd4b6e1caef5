"""The operator's video jitter buffer: release a frame on its RTP marker bit.

aiortc 1.16's ``JitterBuffer`` (video: capacity 512, no prefetch) hands a frame to
the decoder only when the first packet of the *next* frame arrives: a frame is
known complete once a packet with another timestamp follows it. That costs one
frame interval on every frame, and with send-on-change the last picture before a
quiet screen is not shown at all until the sender's next keep-alive.

The sender marks the last packet of every frame (RTP marker bit: RFC 6184 for
H.264, RFC 7741 for VP8; aiortc and browsers set it), so a frame whose packets are
all present from its first through its marked last one is complete right away.
:class:`MarkerJitterBuffer` releases it then. Everything else - ordering, loss
(the stock "next frame arrived" rule still releases a frame whose marked packet was
lost), the PLI decisions on overflow and misorder - is aiortc's own code: the
subclass only adds a check after ``JitterBuffer.add``.

Verified against aiortc 1.16.0 (it reads ``JitterBuffer._origin``, ``_packets`` and
``_capacity``); :mod:`client_core.rtc_tuning` refuses to install it on another version.
"""

from __future__ import annotations

import logging

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

__all__ = ["MarkerJitterBuffer"]

logger = logging.getLogger(__name__)

VIDEO_CAPACITY = 512
"""aiortc's own capacity for video (packets; a power of two)."""


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, plus release of a complete frame at its marked packet.

    ``released_on_marker`` and ``released_on_next_frame`` count how frames left
    (the second is aiortc's rule, used when a marked packet went missing).
    """

    def __init__(self, capacity: int = VIDEO_CAPACITY) -> None:
        super().__init__(capacity=capacity, is_video=True)
        self._newest: int | None = None
        self.released_on_marker = 0
        self.released_on_next_frame = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        in_order = self._newest is None or uint16_gt(packet.sequence_number, self._newest)
        if in_order:
            self._newest = packet.sequence_number
        pli_flag, frame = super().add(packet)
        if frame is not None:
            self.released_on_next_frame += 1
            return pli_flag, frame
        # Only a marked packet, or a late one filling a gap before an already-received
        # marked packet, can complete a frame: skip the scan for every other packet.
        if packet.marker or not in_order:
            frame = self._release_marked()
            if frame is not None:
                self.released_on_marker += 1
        return pli_flag, frame

    def _release_marked(self) -> JitterFrame | None:
        """The oldest frame if all its packets are here up to a marked one; removes it."""
        if self._origin is None:
            return None
        packets: list[RtpPacket] = []
        timestamp: int | None = None
        for count in range(self._capacity):
            packet = self._packets[uint16_add(self._origin, count) % self._capacity]
            if packet is None:
                return None  # a gap: not complete yet (a NACK is already out)
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                return None  # the frame ended without a marked packet: aiortc's rule releases it
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                # ``_data`` is the depayloaded payload aiortc's receiver attaches to each packet.
                data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
                return JitterFrame(data=data, timestamp=timestamp)
        return None
