"""testbed.linkemu: the sans-IO link core, the NFQUEUE message parser, the profiles."""

from __future__ import annotations

import socket
import struct

import pytest

from testbed.linkemu import nfqueue
from testbed.linkemu.core import LinkCore, Outage
from testbed.linkemu.profiles import PROFILES, profile


def test_kept_packets_leave_after_the_delay_in_order() -> None:
    core = LinkCore[int](delay=0.020)
    for i in range(5):
        assert core.arrive(i, now=1.0 + i * 0.001)
    assert core.due(1.0195) == []
    assert core.next_deadline() == pytest.approx(1.020)
    assert core.due(1.0225) == [0, 1, 2]
    assert core.due(2.0) == [3, 4]
    assert core.next_deadline() is None
    assert core.counters.released == 5


def test_loss_is_seeded_and_near_its_rate() -> None:
    def lost(seed: int) -> list[int]:
        core = LinkCore[int](loss=0.05, seed=seed)
        return [i for i in range(20000) if not core.arrive(i, now=0.0)]

    first = lost(7)
    assert first == lost(7)
    assert first != lost(8)
    assert 0.04 < len(first) / 20000 < 0.06


def test_outage_drops_everything_in_its_window_only() -> None:
    core = LinkCore[int](outages=(Outage(start=1.0, duration=0.5),), start=10.0)
    kept = [t for t in (10.5, 10.99, 11.0, 11.2, 11.49, 11.5, 12.0) if core.arrive(0, now=t)]
    assert kept == [10.5, 10.99, 11.5, 12.0]
    assert core.counters.dropped_in_outage == 3


def test_outages_count_from_the_first_packet() -> None:
    core = LinkCore[int](outages=(Outage(start=0.0, duration=1.0),))
    assert not core.arrive(1, now=100.0)
    assert not core.arrive(2, now=100.9)
    assert core.arrive(3, now=101.0)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="loss"):
        LinkCore[int](loss=1.5)
    with pytest.raises(ValueError, match="delay"):
        LinkCore[int](delay=-1)


def _packet_message(packet_id: int) -> bytes:
    hdr = struct.pack("!IHB", packet_id, 0x0800, 3)
    attrs = nfqueue._attr(nfqueue.NFQA_PACKET_HDR, hdr) + nfqueue._attr(9, b"\x00\x00\x00\x01")
    return nfqueue._message(nfqueue.NFQNL_MSG_PACKET, 15, attrs, seq=0)


def test_packet_ids_are_read_from_a_batch_of_messages() -> None:
    data = _packet_message(41) + _packet_message(42)
    assert nfqueue.parse_packet_ids(data) == [41, 42]


def test_a_netlink_error_is_raised() -> None:
    body = struct.pack("=i", -1) + b"\0" * 16
    data = struct.pack("=IHHII", 16 + len(body), nfqueue.NLMSG_ERROR, 0, 1, 0) + body
    with pytest.raises(OSError, match="netlink"):
        nfqueue.parse_packet_ids(data)


def test_verdict_message_layout() -> None:
    msg = nfqueue._message(
        nfqueue.NFQNL_MSG_VERDICT,
        15,
        nfqueue._attr(nfqueue.NFQA_VERDICT_HDR, struct.pack("!II", nfqueue.NF_ACCEPT, 7)),
        seq=3,
    )
    length, kind, flags, seq, _ = struct.unpack_from("=IHHII", msg)
    assert (length, kind, flags, seq) == (len(msg), 0x301, 1, 3)
    family, version, queue = struct.unpack_from("!BBH", msg, 16)
    assert (family, version, queue) == (socket.AF_UNSPEC, 0, 15)
    assert msg[-8:] == struct.pack("!II", 1, 7)


def test_profiles_of_the_issue() -> None:
    for name in ("dsl", "dsl-bloat", "loss1", "loss5", "mobile", "outage5", "outage30", "outage120"):
        assert name in PROFILES
    dsl = profile("dsl")
    assert (dsl.rate_bps, dsl.rtt, dsl.loss, dsl.delay) == (2_000_000, 0.040, 0.01, 0.020)
    assert dsl.limit_bytes == 62_500  # 250 ms at 2 Mbit/s
    assert profile("dsl-bloat").limit_bytes == 1_300_000
    assert profile("loss1").rate_bps is None
    assert profile("outage30").outages[0].duration == 30
    assert profile("lan-4k").screen == (3840, 2160)
    with pytest.raises(KeyError, match="known"):
        profile("nope")
