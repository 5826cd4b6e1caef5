"""client_core.frame_buffer.FrameBuffer on synthetic and recorded (encoded H.264) packet traces,
next to aiortc's own video jitter buffer."""

from __future__ import annotations

import fractions
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
from aiortc.codecs.h264 import H264Decoder, h264_depayload
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from agent.encoder import H264Settings, TunedH264Encoder
from agent.track import to_video_frame
from client_core.frame_buffer import FrameBuffer, h264_starts_keyframe, vp8_starts_keyframe
from client_core.rtp_repair import NackGenerator


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


KEY = b"K"  # synthetic traces: a frame whose first payload starts with K is a keyframe


def _synthetic_key(p: RtpPacket) -> bool:
    return bool(getattr(p, "_data", b"").startswith(KEY))


def packet(seq: int, timestamp: int, data: bytes, *, marker: bool = False, pt: int = 97) -> RtpPacket:
    p = RtpPacket(payload_type=pt, sequence_number=seq & 0xFFFF, timestamp=timestamp)
    p.marker = int(marker)
    p.payload = data
    p._data = data  # type: ignore[attr-defined]  # what aiortc's receiver attaches after depayloading
    return p


def frame_packets(seq: int, timestamp: int, parts: list[bytes]) -> list[RtpPacket]:
    return [packet(seq + i, timestamp, d, marker=i == len(parts) - 1) for i, d in enumerate(parts)]


def buffer(clock: Clock | None = None, **kwargs: float) -> FrameBuffer:
    return FrameBuffer(clock=clock or Clock(), starts_keyframe=_synthetic_key, **kwargs)  # type: ignore[arg-type]


def feed(buf: JitterBuffer, packets: list[RtpPacket]) -> tuple[list[bytes], int]:
    """Every frame released (including those take_ready gives), and how many PLIs were asked for."""
    out: list[bytes] = []
    plis = 0
    for p in packets:
        pli, frame = buf.add(p)
        plis += pli
        if frame is not None:
            out.append(frame.data)
        if isinstance(buf, FrameBuffer):
            out.extend(r.frame.data for r in buf.take_ready())
    return out, plis


# -- synthetic traces ---------------------------------------------------------------------


def test_complete_frame_leaves_on_its_marked_packet_where_stock_waits_for_the_next_frame() -> None:
    frames = [packet(10, 1000, b"KA", marker=True), packet(11, 4000, b"B", marker=True)]
    stock = [JitterBuffer(capacity=512, is_video=True).add(p)[1] for p in frames[:1]]
    assert stock == [None]  # stock: A is held until B's first packet arrives
    released, plis = feed(buffer(), frames)
    assert released == [b"KA", b"B"]
    assert plis == 0


def test_repair_releases_every_frame_it_completes_at_once() -> None:
    buf = buffer()
    trace = (
        frame_packets(100, 0, [b"K1", b"k2", b"k3"])
        + frame_packets(103, 3000, [b"P1a", b"P1b"])
        + frame_packets(105, 6000, [b"P2a", b"P2b"])
        + frame_packets(107, 9000, [b"P3"])
    )
    lost = trace.pop(3)  # P1a lost; P2 and P3 arrive complete behind the gap
    released, _ = feed(buf, trace)
    assert released == [b"K1k2k3"]
    released, plis = feed(buf, [lost])  # the retransmission
    assert released == [b"P1aP1b", b"P2aP2b", b"P3"]  # all at once, not one per later packet
    assert plis == 0
    assert buf.counters.dropped_packets == 0


def test_gap_past_repair_drops_what_follows_until_the_next_keyframe() -> None:
    clock = Clock()
    buf = buffer(clock)
    old = frame_packets(200, 0, [b"K", b"k"]) + frame_packets(202, 3000, [b"P1"])
    after_gap = frame_packets(204, 9000, [b"P3a", b"P3b"]) + frame_packets(206, 12000, [b"P4"])
    released, plis = feed(buf, old + after_gap)  # 203 (P2) lost
    assert released == [b"Kk", b"P1"]
    assert plis == 0  # still repairable
    buf.forget([203])  # the NACK generator gave up on it
    clock.now = 0.1
    released, plis = feed(buf, frame_packets(207, 15000, [b"P5"]))
    assert released == []  # P3..P5 reference the lost P2: never decoded
    assert plis == 1
    assert not buf.continuous
    released, plis = feed(
        buf, frame_packets(208, 18000, [b"Knew", b"knew"]) + frame_packets(210, 21000, [b"P7"])
    )
    assert released == [b"Knewknew", b"P7"]
    assert plis == 0
    assert buf.counters.chain_breaks == 1
    assert buf.held == 0


def test_complete_keyframe_behind_a_gap_is_shown_at_once_and_older_frames_never() -> None:
    buf = buffer()
    trace = (
        frame_packets(300, 0, [b"K0"])
        + frame_packets(301, 3000, [b"P1a", b"P1b"])  # 301 will be lost
        + frame_packets(303, 6000, [b"P2"])
        + frame_packets(304, 9000, [b"K3a", b"k3b"])
        + frame_packets(306, 12000, [b"P4"])
    )
    late = trace.pop(1)
    released, plis = feed(buf, trace)
    assert released == [b"K0", b"K3ak3b", b"P4"]
    assert buf.counters.jumps == 1
    skipped: list[int] = []
    buf.on_skip = skipped.append
    released, _ = feed(buf, [late])  # the repair comes too late: P1, P2 are older than K3
    assert released == []
    assert buf.counters.late_packets == 1
    assert plis == 0


def test_head_waits_at_most_max_wait_without_a_nack_generator() -> None:
    clock = Clock()
    buf = buffer(clock, max_wait=0.5)
    feed(buf, frame_packets(400, 0, [b"K"]) + frame_packets(402, 6000, [b"P2"]))  # 401 missing
    clock.now = 0.4
    assert feed(buf, frame_packets(403, 9000, [b"P3"])) == ([], 0)
    clock.now = 0.6
    released, plis = feed(buf, frame_packets(404, 12000, [b"P4"]))
    assert released == []
    assert plis == 1  # gave up on 401: ask for a keyframe
    assert not buf.continuous


def test_keyframe_requests_are_spaced() -> None:
    clock = Clock()
    buf = buffer(clock, keyframe_interval=1.0)
    # Joining mid-stream: P-frames only, each dropped; one request, then one per second.
    plis = 0
    for i in range(40):
        clock.now = i * 0.05
        plis += feed(buf, frame_packets(500 + i, i * 3000, [b"P"]))[1]
    assert plis == 2  # at 0 s and 1 s
    assert buf.counters.keyframe_requests == 2


def test_sequence_numbers_wrap() -> None:
    released, _ = feed(
        buffer(),
        frame_packets(65534, 7, [b"K1", b"w2", b"w3", b"w4"]) + frame_packets(2, 8, [b"n"]),
    )
    assert released == [b"K1w2w3w4", b"n"]


def test_overflow_breaks_the_chain_and_asks_for_a_keyframe() -> None:
    buf = buffer(max_packets=16)
    feed(buf, frame_packets(1000, 0, [b"K"]))
    trace = [packet(1001 + i, 3000, b"x") for i in range(30)]  # a frame that never completes
    released, plis = feed(buf, trace)
    assert released == []
    assert plis == 1
    assert buf.held <= 16
    assert buf.counters.overflows > 0


def test_nack_generator_stops_asking_for_what_the_buffer_skipped() -> None:
    clock = Clock()
    buf = buffer(clock)
    generator = NackGenerator(clock, on_lost=buf.forget)
    buf.on_skip = generator.discard_before
    trace = frame_packets(600, 0, [b"K0"]) + frame_packets(602, 6000, [b"K2"])  # 601 lost
    for p in trace:
        generator.add(p)
        buf.add(p)
    assert generator.outstanding == set()  # K2 was shown: 601 is no longer wanted


def test_keyframe_tests() -> None:
    sps = b"\x00\x00\x00\x01\x67\x42"
    idr_first = b"\x00\x00\x00\x01\x65\x88"
    idr_second_slice = b"\x00\x00\x00\x01\x65\x08"
    p_slice = b"\x00\x00\x00\x01\x41\x9a"
    aud_then_sps = b"\x00\x00\x00\x01\x09\xf0" + sps
    assert h264_starts_keyframe(sps)
    assert not h264_starts_keyframe(idr_first)  # no parameter sets in front: not a place to join
    assert h264_starts_keyframe(aud_then_sps)
    assert not h264_starts_keyframe(idr_second_slice)
    assert not h264_starts_keyframe(p_slice)
    assert not h264_starts_keyframe(b"\x12\x34\x56\x78\x9a\xbc")  # a middle FU-A fragment
    assert vp8_starts_keyframe(b"\x50\x42\x00\x9d\x01\x2a\x80\x07")
    assert not vp8_starts_keyframe(b"\x51\x42\x00\x9d\x01\x2a")


# -- recorded traces: real H.264 from the agent's encoder -----------------------------------

_TIME_BASE = fractions.Fraction(1, 90000)


def _text_like(height: int, width: int, seed: int) -> npt.NDArray[np.uint8]:
    """Fine high-contrast detail everywhere, as a dense text screen: a large keyframe."""
    rng = np.random.default_rng(seed)
    grey = (rng.random((height // 2, width // 2)) > 0.5).astype(np.uint8) * 255
    image = np.zeros((height, width, 4), np.uint8)
    image[..., :3] = np.kron(grey, np.ones((2, 2), np.uint8))[..., None]
    return image


def _recorded_trace(height: int, width: int, frames: int, first_seq: int) -> list[list[RtpPacket]]:
    # A LAN: a cap high enough that the keyframe is not shrunk to fit a slow link.
    encoder = TunedH264Encoder(
        H264Settings(
            threads=1, keyframe_interval_s=0, max_bitrate=50_000_000, max_pixels=None, start_bitrate=None
        )
    )
    image = _text_like(height, width, 1)
    trace: list[list[RtpPacket]] = []
    seq = first_seq
    for index in range(frames):
        image[16 * index : 16 * index + 16, :64, :3] ^= 0xFF  # a small change per frame
        frame = to_video_frame(image)
        frame.pts = index * 3000
        frame.time_base = _TIME_BASE
        payloads, timestamp = encoder.encode(frame, force_keyframe=False)
        if not payloads:
            continue  # skipped by the encoder (the keyframe is still draining at the cap)
        packets = []
        for i, payload in enumerate(payloads):
            p = RtpPacket(payload_type=96, sequence_number=seq & 0xFFFF, timestamp=timestamp)
            p.marker = int(i == len(payloads) - 1)
            p.payload = payload
            p._data = h264_depayload(payload)  # type: ignore[attr-defined]
            packets.append(p)
            seq += 1
        trace.append(packets)
    return trace


def _decode_all(frames: list[JitterFrame]) -> list[av.VideoFrame]:
    decoder = H264Decoder()
    out: list[av.VideoFrame] = []
    for f in frames:
        out.extend(x for x in decoder.decode(f) if isinstance(x, av.VideoFrame))
    return out


def test_4k_text_keyframe_assembles_where_stock_never_can() -> None:
    trace = _recorded_trace(2160, 3840, 3, first_seq=65000)  # wraps the sequence space too
    keyframe_bytes = sum(len(p.payload) for p in trace[0])
    assert keyframe_bytes > 665_000, keyframe_bytes  # beyond aiortc's 512-packet ring
    packets = [p for frame in trace for p in frame]

    stock = JitterBuffer(capacity=512, is_video=True)
    stock_frames = [f for f in (stock.add(p)[1] for p in packets) if f is not None]
    assert not any(h264_starts_keyframe(f.data) for f in stock_frames)

    ours = FrameBuffer()
    frames: list[JitterFrame] = []
    plis = 0
    for p in packets:
        pli, frame = ours.add(p)
        plis += pli
        frames += [frame] if frame else []
        frames += [r.frame for r in ours.take_ready()]
    assert plis == 0
    assert len(frames) == len(trace) >= 2
    assert h264_starts_keyframe(frames[0].data)
    decoded = _decode_all(frames)
    assert [(f.width, f.height) for f in decoded] == [(3840, 2160)] * len(trace)


def test_recorded_stream_with_an_unrepairable_loss_never_shows_a_corrupt_frame() -> None:
    trace = _recorded_trace(360, 640, 6, first_seq=10)
    lost = [p.sequence_number for p in trace[2]]
    trace[2] = []  # frame 2 is lost for good
    clock = Clock()
    buf = FrameBuffer(clock=clock)
    frames: list[JitterFrame] = []
    plis = 0
    for index, packets in enumerate(trace):
        clock.now = index / 30
        if index == 4:
            buf.forget(lost)
        for p in packets:
            pli, frame = buf.add(p)
            plis += pli
            frames += [frame] if frame else []
            frames += [r.frame for r in buf.take_ready()]
    assert [f.timestamp for f in frames] == [0, 3000]  # frames 0 and 1; nothing after the loss
    assert plis == 1
    assert len(_decode_all(frames)) == 2
