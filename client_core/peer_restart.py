"""When the agent offers a new peer connection in the same session (sans-IO).

aiortc 1.16 has no ICE restart (aiortc issue #211): an ``RTCPeerConnection`` keeps its
ICE credentials and its candidates for life. When the customer's network changes
(Wi-Fi to tethering: the address the candidates were gathered on disappears) no
candidate pair can ever work again, and a peer that went ``failed`` stays failed. The
way back is a *new* peer connection, offered by the agent through the relay in the
same session (docs/protocol.md step 11), each with the next ``restart`` generation.

:class:`PeerRestart` decides when. The glue (agent/session.py) feeds it the clock and
what it sees (the peer's connection state, the relay websocket up or down, the local
addresses now) and calls :meth:`PeerRestart.poll`, which returns what to do:

* :class:`OfferNewPeer` when an address the current peer gathered on has gone, or
  the peer has been ``failed``/``disconnected`` for ``grace_s``, or a restarted peer
  did not connect within ``connect_timeout_s`` - but only once the peer had connected
  at least once (a first connection that fails ends the session as before), only
  while the relay websocket is up (the offer must travel; after an outage it goes as
  soon as the socket is back), and no sooner than the backoff allows;
* :class:`GiveUp` after ``max_attempts`` restarts with no connected peer in between,
  or when no peer has been connected for ``give_up_s`` (the session's own limit,
  client_core.reconnect.CONNECTION_LOST_S): the session then ends with
  ``connection_lost``.

A new address appearing alone restarts nothing: the old pair may well still work (a
VPN or a second network coming up), and a restart costs a new DTLS handshake and a
new keyframe. An outage that leaves the addresses alone restarts nothing either:
traffic resumes on the same pair within a consent interval (client_core.ice_consent).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

__all__ = [
    "GiveUp",
    "OfferNewPeer",
    "PeerRestart",
    "RESTART_DELAYS_S",
    "RestartAction",
]

logger = logging.getLogger(__name__)

RESTART_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
"""After a restart, the earliest next one; the last repeats."""


@dataclasses.dataclass(frozen=True)
class OfferNewPeer:
    """Make a new peer connection and offer it with ``restart`` = ``generation``."""

    generation: int
    why: str
    """``address_lost``, ``peer_failed`` or ``no_connection`` (a restarted peer never connected)."""


@dataclasses.dataclass(frozen=True)
class GiveUp:
    """No peer connection can be brought back: end the session (``connection_lost``)."""

    why: str


RestartAction = OfferNewPeer | GiveUp

_BAD_STATES = frozenset({"failed", "disconnected"})


class PeerRestart:
    """One session's peer connections, from the first offer to the end."""

    def __init__(
        self,
        *,
        grace_s: float = 0.5,
        connect_timeout_s: float = 10.0,
        delays_s: tuple[float, ...] = RESTART_DELAYS_S,
        max_attempts: int = 6,
        give_up_s: float = 60.0,
    ) -> None:
        if not delays_s or min(delays_s) < 0:
            raise ValueError("delays_s: at least one delay, none negative")
        self.grace_s = grace_s
        self.connect_timeout_s = connect_timeout_s
        self.delays_s = delays_s
        self.max_attempts = max_attempts
        self.give_up_s = give_up_s
        self.generation = 0
        """The ``restart`` generation of the current peer (0: the session's first)."""
        self.attempts = 0
        """Restarts since a peer was last connected."""
        self._gathered: frozenset[str] = frozenset()
        self._started_at: float | None = None
        self._connected = False
        self._ever_connected = False
        self._bad_since: float | None = None
        self._address_lost = False
        self._relay_up = False
        self._trouble_since: float | None = None
        self._not_before = 0.0
        self._over = False

    # --- inputs ------------------------------------------------------------------------

    def peer_started(self, now: float, addresses: Iterable[str]) -> None:
        """The current peer was created and gathered its candidates on ``addresses``."""
        self._gathered = frozenset(addresses)
        self._started_at = now
        self._connected = False
        self._bad_since = None
        self._address_lost = False

    def peer_state(self, now: float, state: str, *, silent_s: float = 0.0) -> None:
        """The current peer's connection state changed (``closed`` is our own doing).

        ``silent_s``: how long the peer had already been without traffic when it reported
        ``state`` (aiortc says ``failed`` only after ICE consent went unanswered for its
        tolerance, client_core.ice_consent): that time counts toward ``give_up_s``."""
        if state == "connected":
            if self.attempts:
                logger.info("peer restart %d connected after %d attempt(s)", self.generation, self.attempts)
            self._connected = self._ever_connected = True
            self._bad_since = self._trouble_since = None
            self.attempts = 0
        elif state in _BAD_STATES:
            self._connected = False
            if self._bad_since is None:
                self._bad_since = now
            since = now - silent_s
            if self._trouble_since is None or since < self._trouble_since:
                self._trouble_since = since

    def relay(self, up: bool) -> None:
        """The relay websocket is up (connected, resumed) or down."""
        self._relay_up = up

    def addresses(self, now: float, current: Iterable[str]) -> None:
        """The local addresses now; an address the current peer gathered on may have gone."""
        gone = self._gathered - frozenset(current)
        if gone and not self._address_lost:
            logger.info(
                "local address(es) %s gone: the peer's candidates cannot work", ", ".join(sorted(gone))
            )
            self._address_lost = True
            if self._trouble_since is None:
                self._trouble_since = now

    def ended(self) -> None:
        """The session is over: nothing more to do."""
        self._over = True

    # --- decision ----------------------------------------------------------------------

    def poll(self, now: float) -> list[RestartAction]:
        """What to do now (call after every input and regularly, e.g. every half second)."""
        if self._over:
            return []
        why = self._why(now)
        trouble = self._trouble_since
        if trouble is not None and not self._connected and now - trouble >= self.give_up_s:
            # No picture for the session's give-up time, whatever is still being tried.
            self._over = True
            logger.info("peer restart: no connected peer for %.0f s, giving up", now - trouble)
            return [GiveUp(why or "no_connection")]
        if why is None:
            return []
        if not self._ever_connected:
            self._over = True  # never had a picture: nothing to restart (as before restarts existed)
            return [GiveUp(why)]
        if self.attempts >= self.max_attempts:
            self._over = True
            logger.info("peer restart: giving up after %d attempt(s) (%s)", self.attempts, why)
            return [GiveUp(why)]
        if not self._relay_up or now < self._not_before:
            return []
        if self._trouble_since is None:
            self._trouble_since = now
        self.generation += 1
        self.attempts += 1
        self._not_before = now + self.delays_s[min(self.attempts - 1, len(self.delays_s) - 1)]
        self._started_at = None  # until peer_started
        self._address_lost = False
        self._bad_since = None
        self._connected = False
        logger.info("peer restart %d (%s), attempt %d", self.generation, why, self.attempts)
        return [OfferNewPeer(self.generation, why)]

    def _why(self, now: float) -> str | None:
        if self._address_lost:
            return "address_lost"
        if self._bad_since is not None and now - self._bad_since >= self.grace_s:
            return "peer_failed"
        started = self._started_at
        if (
            self.generation > 0
            and not self._connected
            and started is not None
            and now - started >= self.connect_timeout_s
        ):
            return "no_connection"
        return None
