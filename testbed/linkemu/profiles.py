"""The link profiles of issue 15, as data.

``delay`` is one way. On the shared loopback inside the namespace every packet
passes the emulator once, so the round trip is twice the delay: ``rtt`` below is
what a profile means and ``delay = rtt / 2``. ``rate`` and ``buffer`` shape the
sum of both directions (one TBF on the loopback's ingress). ``loss`` hits every
packet, signaling (TCP to the relay) included.
"""

from __future__ import annotations

from dataclasses import dataclass

from testbed.linkemu.core import Outage

__all__ = ["PROFILES", "LinkProfile", "profile"]


@dataclass(frozen=True)
class LinkProfile:
    name: str
    rtt: float = 0.0
    """Round-trip time in seconds (the emulator delays each packet by half of it)."""
    loss: float = 0.0
    rate_bps: int | None = None
    """Bottleneck rate in bit/s (None: not limited)."""
    buffer_bytes: int | None = None
    """Bottleneck buffer (TBF limit) in bytes; defaults to 250 ms at ``rate_bps``."""
    outages: tuple[Outage, ...] = ()
    screen: tuple[int, int] | None = None
    """Screen size the profile is meant for (None: the scenario's own)."""

    @property
    def delay(self) -> float:
        return self.rtt / 2

    @property
    def limit_bytes(self) -> int | None:
        if self.rate_bps is None:
            return None
        if self.buffer_bytes is not None:
            return self.buffer_bytes
        return int(self.rate_bps * 0.250 / 8)


_OUTAGE_AT = 10.0
"""Outages start this many seconds after the link's first packet: in the middle of a session."""


def _outage(seconds: float) -> LinkProfile:
    return LinkProfile(
        name=f"outage{int(seconds)}", rtt=0.040, outages=(Outage(start=_OUTAGE_AT, duration=seconds),)
    )


PROFILES: dict[str, LinkProfile] = {
    p.name: p
    for p in (
        # 2 Mbit/s, 40 ms RTT, 1 % loss, 250 ms bottleneck buffer (62.5 KB at 2 Mbit/s).
        LinkProfile(name="dsl", rtt=0.040, loss=0.01, rate_bps=2_000_000, buffer_bytes=62_500),
        LinkProfile(name="dsl-bloat", rtt=0.040, loss=0.01, rate_bps=2_000_000, buffer_bytes=1_300_000),
        LinkProfile(name="loss1", rtt=0.040, loss=0.01),
        LinkProfile(name="loss5", rtt=0.040, loss=0.05),
        # "Deep buffer": 3 s at 1 Mbit/s.
        LinkProfile(name="mobile", rtt=0.060, rate_bps=1_000_000, buffer_bytes=375_000),
        _outage(5),
        _outage(30),
        _outage(120),
        LinkProfile(name="lan-1440p", screen=(2560, 1440)),
        LinkProfile(name="lan-4k", screen=(3840, 2160)),
    )
}


def profile(name: str) -> LinkProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown link profile {name!r}; known: {', '.join(PROFILES)}") from None
