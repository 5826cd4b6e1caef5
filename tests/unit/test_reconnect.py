"""client_core.reconnect: when a client retries the relay and when it gives up."""

from __future__ import annotations

import aioice.ice
import pytest

from client_core.ice_consent import tolerate_silence
from client_core.reconnect import CONNECTION_LOST_S, Reconnector


def test_backoff_grows_then_repeats_the_last_delay() -> None:
    lost = Reconnector(lost_at=100.0)
    assert [lost.next_delay() for _ in range(7)] == [0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0]
    assert lost.attempts == 7


def test_gives_up_only_when_neither_relay_nor_media_came_back() -> None:
    lost = Reconnector(lost_at=100.0, connection_lost_s=60.0)
    assert not lost.give_up(130.0, media_alive=False)  # a 30 s outage is ridden out
    assert not lost.give_up(500.0, media_alive=True)  # the picture still flows: keep trying
    assert lost.give_up(160.0, media_alive=False)


def test_delays_must_make_sense() -> None:
    with pytest.raises(ValueError, match="delay"):
        Reconnector(lost_at=0.0, delays_s=())
    with pytest.raises(ValueError, match="delay"):
        Reconnector(lost_at=0.0, delays_s=(1.0, -1.0))


def test_ice_consent_tolerates_the_give_up_time() -> None:
    before = aioice.ice.CONSENT_FAILURES
    try:
        failures = tolerate_silence(CONNECTION_LOST_S)
        assert failures == aioice.ice.CONSENT_FAILURES
        # Consent checks every CONSENT_INTERVAL s: the silence tolerated covers the give-up time.
        assert failures * aioice.ice.CONSENT_INTERVAL >= CONNECTION_LOST_S
        assert tolerate_silence(1.0) == 6  # never stricter than aioice's own default (RFC 7675)
    finally:
        aioice.ice.CONSENT_FAILURES = before
