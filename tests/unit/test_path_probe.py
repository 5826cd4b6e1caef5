"""PathProbe on bursts recorded through the emulated links (testbed.linkemu.record_train)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client_core.path_probe import HEADROOM, PathProbe

TRACES = Path(__file__).parent.parent / "data" / "path_probe"


def _replay(name: str) -> tuple[PathProbe, list[float], dict[str, object]]:
    """Each recorded burst as one video frame (one RTP timestamp, the marker on its last packet)."""
    trace = json.loads((TRACES / f"{name}.json").read_text())
    per_burst = int(trace["packets_per_burst"])
    probe = PathProbe()
    samples = []
    arrivals = trace["arrivals"]
    for index, (seq, at, size) in enumerate(arrivals):
        burst = seq // per_burst
        last = index + 1 == len(arrivals) or arrivals[index + 1][0] // per_burst != burst
        sample = probe.add(1234, at, seq=seq, timestamp=burst * 3000, marker=last, size=size)
        if sample is not None:
            samples.append(sample)
    return probe, samples, trace


@pytest.mark.parametrize("name", ["dsl", "dsl-bloat", "mobile"])
def test_a_burst_through_a_slow_link_measures_the_link(name: str) -> None:
    probe, samples, trace = _replay(name)
    rate = float(trace["rate_bps"])  # type: ignore[arg-type]
    assert len(samples) == 2  # both bursts
    # Payload bytes over the link's time (its bytes include 28 of IP and UDP headers per packet).
    assert 0.85 * rate < samples[0] < 1.1 * rate
    capacity = probe.capacity()
    assert capacity is not None
    assert 0.85 * rate < capacity < 1.1 * rate
    assert probe.ceiling() == pytest.approx(HEADROOM * capacity)


def test_the_shapers_burst_allowance_does_not_inflate_the_first_sample() -> None:
    # The first packets of the dsl burst passed TBF's burst allowance at once: measured over
    # the whole train the link would look faster than it is.
    trace = json.loads((TRACES / "dsl.json").read_text())
    first = [(at, size) for seq, at, size in trace["arrivals"] if seq < trace["packets_per_burst"]]
    naive = sum(size for _, size in first[1:]) * 8000 / (first[-1][0] - first[0][0])
    _, samples, _ = _replay("dsl")
    payload_rate = trace["rate_bps"] * 1200 / 1228  # what 1200-byte payloads get of the link
    assert naive > trace["rate_bps"] > payload_rate
    assert abs(samples[0] - payload_rate) < abs(naive - payload_rate)


def test_a_link_without_a_rate_limit_reads_as_fast() -> None:
    probe, samples, _ = _replay("loss1")
    capacity = probe.capacity()
    assert samples
    assert capacity is not None
    assert capacity > 10_000_000  # far above the encoder's 3 Mbit/s maximum: a fast path


def test_short_frames_retransmissions_and_other_streams_make_no_sample() -> None:
    probe = PathProbe(min_packets=10)
    for seq in range(5):  # a P-frame of five packets
        assert probe.add(1, seq, seq=seq, timestamp=0, marker=seq == 4, size=1200) is None
    assert probe.capacity() is None
    probe.add(2, 10, seq=100, timestamp=3000, marker=False, size=1200)  # another SSRC (RTX): ignored
    for k in range(12):  # a keyframe at 1 Mbit/s: 1200 bytes every 9.6 ms
        at = 20 + round(k * 9.6)
        if k == 6:
            # A repaired packet of the last frame arrives in the middle: not part of the train.
            assert probe.add(1, at, seq=3, timestamp=0, marker=True, size=1200) is None
        sample = probe.add(1, at, seq=5 + k, timestamp=3000, marker=k == 11, size=1200)
    assert sample is not None
    assert sample == pytest.approx(1_000_000, rel=0.1)


def test_one_stalled_or_compressed_train_does_not_move_the_capacity() -> None:
    probe = PathProbe(min_packets=10, keep=5)
    seq = 0

    def train(spacing_ms: float, timestamp: int) -> None:
        nonlocal seq
        for k in range(20):
            probe.add(
                1, timestamp + round(k * spacing_ms), seq=seq, timestamp=timestamp, marker=k == 19, size=1000
            )
            seq += 1

    for index in range(3):
        train(4.0, index * 1000)  # 2 Mbit/s
    train(0.05, 4000)  # the receiver read a queue of packets at once
    train(40.0, 5000)  # the receiver was busy
    capacity = probe.capacity()
    assert capacity == pytest.approx(2_000_000, rel=0.1)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        PathProbe(min_packets=1)
    with pytest.raises(ValueError):
        PathProbe(keep=0)
