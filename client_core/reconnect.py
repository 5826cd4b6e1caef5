"""When a client retries the relay after its websocket dropped, and when it gives up (sans-IO).

The media and the guidance channel are peer to peer, so a lost relay connection alone
ends nothing: the client retries with backoff for as long as the peer connection is
alive. It gives up (``connection_lost``) only when the relay has been unreachable for
``connection_lost_s`` and the media is not flowing either. The caller passes the clock.
"""

from __future__ import annotations

import dataclasses

__all__ = ["CONNECTION_LOST_S", "RECONNECT_DELAYS_S", "Reconnector"]

RECONNECT_DELAYS_S: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 5.0)
"""Wait before each attempt; the last one repeats."""

CONNECTION_LOST_S = 60.0
"""Give up when neither the relay nor the media has come back within this time: a 30 s
outage keeps the session, a 120 s one ends it (docs/protocol.md §8)."""


@dataclasses.dataclass
class Reconnector:
    """One lost relay connection, from the drop until it is back or given up."""

    lost_at: float
    delays_s: tuple[float, ...] = RECONNECT_DELAYS_S
    connection_lost_s: float = CONNECTION_LOST_S
    attempts: int = 0

    def __post_init__(self) -> None:
        if not self.delays_s or min(self.delays_s) < 0:
            raise ValueError("delays_s: at least one delay, none negative")

    def next_delay(self) -> float:
        """How long to wait before the next attempt (counts the attempt)."""
        delay = self.delays_s[min(self.attempts, len(self.delays_s) - 1)]
        self.attempts += 1
        return delay

    def give_up(self, now: float, *, media_alive: bool) -> bool:
        """True once the relay has been gone for ``connection_lost_s`` with no media either."""
        return not media_alive and now - self.lost_at >= self.connection_lost_s
