"""client_core.pacer.Pacer on synthetic bursts."""

from __future__ import annotations

from dataclasses import dataclass

from client_core.pacer import Pacer


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_keyframe_burst_leaves_at_the_pacing_rate() -> None:
    clock = Clock()
    pacer = Pacer(clock, lambda: 8_000_000)  # 1 MB/s
    # 100 packets of 1,000 bytes handed over at once (aiortc sends a frame back to back).
    waits = [pacer.delay(1000) for _ in range(100)]
    assert waits[0] == 0.0
    assert waits[:12] == [0.0] * 12  # a small burst goes at once
    assert abs(waits[-1] - 0.087) < 0.003  # 100 KB at 1 MB/s, less the burst: ~0.09 s later
    assert waits == sorted(waits)
    assert pacer.delayed >= 85


def test_packets_within_the_rate_are_not_held() -> None:
    clock = Clock()
    pacer = Pacer(clock, lambda: 8_000_000)
    for i in range(50):
        clock.now = i * 0.002  # 500 packets/s of 1,000 bytes: half the rate
        assert pacer.delay(1000) == 0.0
    assert pacer.queued_s() < 0.002


def test_the_rate_follows_the_encoder_and_none_means_unpaced() -> None:
    clock = Clock()
    rate: list[float | None] = [None]
    pacer = Pacer(clock, lambda: rate[0])
    assert all(pacer.delay(1200) == 0.0 for _ in range(100))
    rate[0] = 2_000_000  # 250 KB/s
    waits = [pacer.delay(1250) for _ in range(20)]
    assert abs(waits[-1] - (19 * 1250 - 12 * 1200) / 250_000) < 0.001  # a 14.4 KB burst, then 5 ms each


def test_a_retransmission_leaves_at_once_and_what_follows_waits_for_it() -> None:
    clock = Clock()
    pacer = Pacer(clock, lambda: 8_000_000)  # 1 MB/s
    waits = [pacer.delay(1000) for _ in range(50)]  # a frame queued for ~40 ms
    assert waits[-1] > 0.03
    assert pacer.delay(1000, priority=True) == 0.0  # a repair does not queue behind it
    assert pacer.delay(1000) > waits[-1]  # and counts: the next packet waits for it too
