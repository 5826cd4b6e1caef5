"""operator_console.receiver.MarkerJitterBuffer fed with RTP packets, next to aiortc's own buffer."""

from __future__ import annotations

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from operator_console.receiver import MarkerJitterBuffer


def packet(seq: int, timestamp: int, data: bytes, *, marker: bool = False) -> RtpPacket:
    p = RtpPacket(payload_type=97, sequence_number=seq & 0xFFFF, timestamp=timestamp)
    p.marker = int(marker)
    p.payload = data
    p._data = data  # type: ignore[attr-defined]  # what aiortc's receiver attaches after depayloading
    return p


def feed(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[JitterFrame | None]:
    return [buffer.add(p)[1] for p in packets]


def test_single_packet_frame_leaves_at_once_where_stock_waits_for_the_next_frame() -> None:
    frames = [packet(10, 1000, b"A", marker=True), packet(11, 4000, b"B", marker=True)]
    stock = feed(JitterBuffer(capacity=512, is_video=True), frames)
    assert stock[0] is None  # stock: A is held until B's first packet arrives
    assert stock[1] is not None
    assert stock[1].data == b"A"
    ours = feed(MarkerJitterBuffer(), frames)
    assert [f.data if f else None for f in ours] == [b"A", b"B"]


def test_multi_packet_frame_released_on_its_marked_packet() -> None:
    buffer = MarkerJitterBuffer()
    out = feed(
        buffer,
        [packet(100, 9000, b"a1"), packet(101, 9000, b"a2"), packet(102, 9000, b"a3", marker=True)],
    )
    assert out[:2] == [None, None]
    assert out[2] is not None
    assert out[2].data == b"a1a2a3"
    assert out[2].timestamp == 9000
    assert buffer.released_on_marker == 1
    assert buffer.released_on_next_frame == 0


def test_gap_filled_late_completes_the_frame() -> None:
    buffer = MarkerJitterBuffer()
    out = feed(buffer, [packet(200, 1, b"x1"), packet(202, 1, b"x3", marker=True)])
    assert out == [None, None]  # 201 missing: not complete
    frame = buffer.add(packet(201, 1, b"x2"))[1]  # the retransmission arrives
    assert frame is not None
    assert frame.data == b"x1x2x3"


def test_lost_marked_packet_falls_back_to_the_next_frame_rule() -> None:
    buffer = MarkerJitterBuffer()
    out = feed(
        buffer,
        [packet(300, 1, b"p1"), packet(301, 1, b"p2"), packet(302, 2, b"q1", marker=True)],
    )
    # Frame 1's marked packet never came; it is released when frame 2 starts, as aiortc does.
    assert out[2] is not None
    assert out[2].data == b"p1p2"
    assert buffer.released_on_next_frame == 1
    # Frame 2 (complete, marked) is released with the next packet that arrives.
    frame = buffer.add(packet(303, 3, b"r1", marker=True))[1]
    assert frame is not None
    assert frame.data == b"q1"


def test_sequence_numbers_wrap() -> None:
    buffer = MarkerJitterBuffer()
    out = feed(
        buffer,
        [
            packet(65534, 7, b"w1"),
            packet(65535, 7, b"w2"),
            packet(0, 7, b"w3"),
            packet(1, 7, b"w4", marker=True),
        ],
    )
    assert out[3] is not None
    assert out[3].data == b"w1w2w3w4"
    frame = buffer.add(packet(2, 8, b"n", marker=True))[1]
    assert frame is not None
    assert frame.data == b"n"


def test_late_duplicate_of_a_released_frame_is_ignored() -> None:
    buffer = MarkerJitterBuffer()
    feed(buffer, [packet(500, 1, b"a", marker=True), packet(501, 2, b"b", marker=True)])
    assert buffer.add(packet(500, 1, b"a", marker=True))[1] is None
    frame = buffer.add(packet(502, 3, b"c", marker=True))[1]
    assert frame is not None
    assert frame.data == b"c"


def test_overflow_still_asks_for_a_keyframe() -> None:
    buffer = MarkerJitterBuffer(capacity=16)
    buffer.add(packet(1000, 1, b"start"))  # a frame that never completes
    pli, _ = buffer.add(packet(1020, 2, b"far", marker=True))
    assert pli  # aiortc's overflow handling (PLI) is unchanged
