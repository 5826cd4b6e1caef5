"""How long ICE consent (RFC 7675) may go unanswered before aioice closes the connection.

aioice 0.13 sends a consent check every ``CONSENT_INTERVAL`` (5 s, randomised by ±20 %)
on the nominated pair and closes the ICE connection after ``CONSENT_FAILURES`` (6)
unanswered ones in a row: a link that is down for 24-36 s kills the peer connection
(``failed``), and aiortc 1.16 has no ICE restart to bring it back (aiortc issue #211). So
a 30 s outage would end every session. Both ends are ours: each client (the agent's
session, the operator's client) tolerates its give-up time of silence instead
(:data:`client_core.reconnect.CONNECTION_LOST_S`, 60 s), after which the session ends
with ``connection_lost`` anyway. Consent is still checked, and traffic
resumes on the same pair as soon as the link is back.

Process-wide (aioice reads the module constant at every check); verified on aioice 0.13.0
with aiortc 1.16 (docs/performance.md, "Outages").
"""

from __future__ import annotations

import math

import aioice.ice

__all__ = ["silence_before_failure", "tolerate_silence"]


def tolerate_silence(seconds: float) -> int:
    """Let consent checks fail for about ``seconds`` before ICE closes; returns the count.

    Each check waits 0.8-1.2 x ``CONSENT_INTERVAL``, so the connection closes after
    0.8-1.2 x ``seconds`` of silence; never sooner than aioice's own 6 checks (RFC 7675),
    so a client with a short give-up time (tests) is not less tolerant than stock."""
    failures = max(6, math.ceil(seconds / aioice.ice.CONSENT_INTERVAL))
    aioice.ice.CONSENT_FAILURES = failures
    return failures


def silence_before_failure() -> float:
    """The least silence after which aioice closes a connection (``failed``), as now set.

    A peer that reports ``failed`` has been without traffic at least this long; the
    session's give-up time counts it (client_core.peer_restart)."""
    return 0.8 * aioice.ice.CONSENT_FAILURES * aioice.ice.CONSENT_INTERVAL
