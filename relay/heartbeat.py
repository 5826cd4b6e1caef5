"""Websocket heartbeats from the relay's one timer, not one timer per socket.

A client that vanishes without a FIN (a laptop lid closed, a mobile network gone)
leaves its socket open for as long as TCP cares to wait. So a socket that has been
silent for ``heartbeat_s`` gets a ping, and one that has then stayed silent for half
of that more is cut off without a close frame: for the registry, a dropped
connection (an agent may ``resume``). Any frame counts as a sign of life, not only
the pong.

aiohttp can do this itself, but with a timer handle per socket, rescheduled on every
message: about 0.5 KiB per idle socket (docs/performance.md, "Relay under load").
Here the relay's ticker asks :func:`verdict` for every socket instead; the state is
two numbers the glue keeps per socket. Sans-IO: the caller passes the clock.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Verdict", "verdict"]

Verdict = Literal["ping", "dead"]


def verdict(heard: float, pinged: float | None, now: float, interval: float) -> Verdict | None:
    """What one socket needs now: a ping, to be cut off, or nothing.

    ``heard``: when its last frame arrived (or when it opened); ``pinged``: when the
    relay pinged it since, None if not; ``interval``: ``heartbeat_s``, 0 for never.
    """
    if interval <= 0:
        return None
    if pinged is not None:
        return "dead" if now - pinged >= interval / 2 else None
    return "ping" if now - heard >= interval else None
