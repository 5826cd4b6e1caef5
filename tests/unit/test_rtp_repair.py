"""client_core.rtp_repair on synthetic packet traces, and its installation on real aiortc objects."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiortc import RTCPeerConnection
from aiortc.rtp import RtpPacket

from client_core import rtc_tuning
from client_core.rtp_repair import NackGenerator, PacketHistory


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def _packet(seq: int, ssrc: int = 1234) -> RtpPacket:
    return RtpPacket(payload_type=96, sequence_number=seq & 0xFFFF, timestamp=0, ssrc=ssrc)


def test_history_holds_a_whole_1080p_keyframe_and_a_second() -> None:
    clock = Clock()
    history = PacketHistory(clock)
    for seq in range(3000):  # a keyframe far beyond aiortc's 128 packets, in one burst
        history[seq % 128] = _packet(seq)
    assert len(history) == 3000
    packet = history.lookup(5)
    assert packet is not None
    assert packet.sequence_number == 5
    assert history.lookup(5) is None  # just resent: not again within an RTT
    clock.now = 0.05
    assert history.lookup(5) is not None
    # A second later (30 fps, 10 packets a frame) the old packets go, the recent stay.
    for i in range(40):
        clock.now = 1.0 + i * 0.033
        for j in range(10):
            history[0] = _packet(3000 + i * 10 + j)
    assert history.lookup(5) is None
    assert history.lookup(3399) is not None
    assert len(history) >= history.min_packets


def test_history_follows_the_rtt_and_is_capped() -> None:
    clock = Clock()
    history = PacketHistory(clock, rtt=lambda: 0.5, max_packets=9600)
    assert history.horizon() == 1.5
    for seq in range(12000):
        history[0] = _packet(seq)
    assert len(history) == 9600
    assert history.lookup(12000 - 9600) is not None
    assert history.lookup(12000 - 9601) is None


def test_history_answers_aiortc_through_pending_only() -> None:
    history = PacketHistory(Clock())
    history[3] = _packet(131)
    assert history.get(3) is None
    history.pending = history.lookup(131)
    assert history.get(3).sequence_number == 131


def test_gap_is_nacked_retried_per_rtt_and_repaired() -> None:
    clock = Clock()
    keyframes: list[int] = []
    nack = NackGenerator(clock, keyframes.append, initial_rtt=0.040)
    nack.add(_packet(1))
    assert nack.add(_packet(4))  # 2 and 3 missing
    assert nack.missing == {2, 3}
    clock.now = 0.010
    assert not nack.add(_packet(5))  # no retry before an RTT
    clock.now = 0.065
    assert nack.add(_packet(6))  # retried once per 1.5 RTT
    assert nack.missing == {2, 3}
    clock.now = 0.080
    nack.add(_packet(2))
    nack.add(_packet(3))
    assert nack.outstanding == set()
    assert nack.counters.repaired == 2
    assert keyframes == []


def test_gap_past_repair_asks_for_a_keyframe_at_once_and_not_in_a_storm() -> None:
    clock = Clock()
    keyframes: list[int] = []
    nack = NackGenerator(clock, keyframes.append, initial_rtt=0.040, max_tries=3, keyframe_interval=0.3)
    nack.add(_packet(10))
    seq = 12
    nack.add(_packet(seq))  # 11 lost for good
    for step in range(1, 10):
        clock.now = step * 0.061
        seq += 1
        nack.add(_packet(seq))
        if keyframes:
            break
    assert keyframes == [1234]
    assert nack.counters.past_repair == 1
    assert clock.now < 0.3  # three tries at 1.5 RTT each, then at once
    # More losses right after: no second request inside the interval.
    nack.add(_packet(seq + 2))
    for _ in range(4):
        clock.now += 0.041
        seq += 3
        nack.add(_packet(seq))
    assert len(keyframes) == 1


def test_a_gap_the_sender_forgot_is_past_repair_by_age() -> None:
    clock = Clock()
    keyframes: list[int] = []
    nack = NackGenerator(clock, keyframes.append, initial_rtt=2.0, max_age=1.0)
    nack.add(_packet(65534))
    nack.add(_packet(1))  # wraps: 65535 and 0 missing
    assert nack.missing == {65535, 0}
    clock.now = 1.5
    nack.add(_packet(2))
    assert nack.outstanding == set()
    assert keyframes == [1234]


def test_a_long_trace_of_1_percent_loss_is_repaired() -> None:
    """1 % loss on 20,000 packets, retransmissions lost at 1 % too: every gap is repaired."""
    import random

    rng = random.Random(1)
    clock = Clock()
    keyframes: list[int] = []
    nack = NackGenerator(clock, keyframes.append, initial_rtt=0.040)
    resend_at: list[tuple[float, int]] = []
    for seq in range(20000):
        clock.now = seq * 0.001
        for due in [r for r in resend_at if r[0] <= clock.now]:
            resend_at.remove(due)
            if rng.random() >= 0.01:
                nack.add(_packet(due[1]))
        if rng.random() < 0.01:
            continue
        if nack.add(_packet(seq)):
            resend_at += [(clock.now + 0.040, s) for s in nack.missing]
    assert nack.counters.gaps > 150
    assert nack.counters.past_repair == 0
    assert keyframes == []


async def test_installed_on_real_aiortc_objects() -> None:
    pc = RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver("video")
        history = rtc_tuning.install_packet_history(transceiver.sender)
        generator = rtc_tuning.install_nack_generator(transceiver.receiver)
        assert history is not None
        assert generator is not None
        assert vars(transceiver.sender)["_RTCRtpSender__rtp_history"] is history
        assert vars(transceiver.receiver)["_RTCRtpReceiver__nack_generator"] is generator
        # The wrapped retransmit finds nothing for an unknown packet and sends nothing.
        await transceiver.sender._retransmit(7)
        assert history.missed == 1
        await asyncio.sleep(0)
    finally:
        await pc.close()


def test_an_outage_sized_gap_is_given_up_at_once() -> None:
    clock = Clock()
    lost: list[int] = []
    keyframes: list[int] = []
    generator = NackGenerator(clock, keyframes.append, on_lost=lost.extend, max_nack_list=1000)
    generator.add(_packet(0))
    assert not generator.add(_packet(1500))  # 1,499 missing: no NACK for them
    assert len(lost) == 1499
    assert keyframes == [1234]
    assert generator.outstanding == set()
    assert generator.add(_packet(1502))  # ordinary loss afterwards is NACKed again
    assert generator.missing == {1501}


def test_a_gap_across_seconds_of_media_is_an_outage_not_loss() -> None:
    # The link was down for 5 s: what it lost was captured 5 s ago. Repairing it would
    # replay stale pictures after the link returns; a keyframe is asked for instead.
    clock = Clock()
    lost: list[int] = []
    keyframes: list[int] = []
    generator = NackGenerator(clock, keyframes.append, on_lost=lost.extend)

    def at(seq: int, seconds: float) -> RtpPacket:
        packet = _packet(seq)
        packet.timestamp = int(seconds * 90_000)
        return packet

    generator.add(at(0, 0.0))
    assert not generator.add(at(151, 5.0))  # 150 packets of 5 s of media missing
    assert len(lost) == 150
    assert keyframes == [1234]
    # The same number of packets lost inside one keyframe (no media time) is repaired.
    assert generator.add(at(302, 5.0))
    assert len(generator.missing) == 150
    # So is a short gap across a quiet screen (few packets, however long the pause).
    assert generator.add(at(306, 9.0))
    assert {303, 304, 305} <= generator.missing


def test_history_forgets_what_came_before_a_keyframe() -> None:
    from aiortc.codecs.h264 import H264Encoder

    from client_core.frame_buffer import h264_payload_starts_keyframe

    history = PacketHistory(Clock())
    history.starts_keyframe = h264_payload_starts_keyframe
    for seq in range(10):
        history[0] = _packet(seq)  # payload-less: not a keyframe start
    # aiortc's packetizer: SPS + PPS aggregated (STAP-A) at the start of a keyframe.
    sps, pps = b"\x67\x42\xc0\x1f\x00", b"\x68\xce\x38\x80"
    keyframe = _packet(10)
    keyframe.payload = H264Encoder._packetize([sps, pps])[0]
    history[0] = keyframe
    assert len(history) == 1
    assert history.lookup(5) is None
    assert history.lookup(10) is keyframe
    assert history.dropped_before_keyframes == 10
    p_slice = _packet(11)
    p_slice.payload = b"\x41\x9a\x00\x01"
    assert not h264_payload_starts_keyframe(p_slice.payload)
