"""When the agent offers a new peer connection (client_core.peer_restart), driven in memory."""

from __future__ import annotations

import pytest

from client_core.peer_restart import GiveUp, OfferNewPeer, PeerRestart

WIFI = "192.168.1.20"
TETHER = "172.20.10.2"


def sharing(core: PeerRestart | None = None) -> PeerRestart:
    """A session whose first peer gathered on the Wi-Fi address and connected, relay up."""
    core = core or PeerRestart()
    core.relay(True)
    core.peer_started(0.0, {WIFI})
    core.peer_state(1.0, "connected")
    return core


def test_nothing_happens_while_the_peer_is_connected_and_the_addresses_stay() -> None:
    core = sharing()
    core.addresses(2.0, {WIFI})
    assert core.poll(2.0) == []
    assert core.poll(100.0) == []
    assert core.generation == 0


def test_a_gathered_address_that_disappears_restarts_at_once() -> None:
    core = sharing()
    core.addresses(5.0, {TETHER})
    assert core.poll(5.0) == [OfferNewPeer(1, "address_lost")]
    assert core.generation == 1


def test_a_new_address_alone_restarts_nothing() -> None:
    core = sharing()
    core.addresses(5.0, {WIFI, TETHER})  # a VPN or a second network came up
    assert core.poll(5.0) == []


def test_the_offer_waits_for_the_relay_websocket() -> None:
    core = sharing()
    core.relay(False)  # the relay socket went with the old address
    core.addresses(5.0, {TETHER})
    assert core.poll(5.0) == []
    assert core.poll(6.0) == []
    core.relay(True)
    assert core.poll(6.5) == [OfferNewPeer(1, "address_lost")]


def test_a_failed_peer_restarts_after_the_grace() -> None:
    core = sharing(PeerRestart(grace_s=0.5))
    core.peer_state(10.0, "failed")
    assert core.poll(10.2) == []
    assert core.poll(10.5) == [OfferNewPeer(1, "peer_failed")]


def test_a_disconnected_peer_that_recovers_within_the_grace_is_kept() -> None:
    core = sharing(PeerRestart(grace_s=2.0))
    core.peer_state(10.0, "disconnected")
    core.peer_state(11.0, "connected")
    assert core.poll(13.0) == []


def test_a_restarted_peer_that_never_connects_is_restarted_again_with_backoff() -> None:
    core = sharing(PeerRestart(connect_timeout_s=5.0, delays_s=(1.0, 2.0)))
    core.addresses(5.0, {TETHER})
    assert core.poll(5.0) == [OfferNewPeer(1, "address_lost")]
    core.peer_started(5.1, {TETHER})
    assert core.poll(9.0) == []
    assert core.poll(10.1) == [OfferNewPeer(2, "no_connection")]
    core.peer_started(10.2, {TETHER})
    core.peer_state(10.5, "failed")
    assert core.poll(11.5) == []  # the backoff after the second attempt is 2 s
    assert core.poll(12.1) == [OfferNewPeer(3, "peer_failed")]


def test_a_connected_restart_resets_the_attempts() -> None:
    core = sharing(PeerRestart(max_attempts=2))
    core.addresses(5.0, {TETHER})
    assert core.poll(5.0) == [OfferNewPeer(1, "address_lost")]
    core.peer_started(5.1, {TETHER})
    core.peer_state(6.0, "connected")
    assert core.attempts == 0
    core.addresses(20.0, {WIFI})  # back home
    assert core.poll(20.0) == [OfferNewPeer(2, "address_lost")]


def test_too_many_attempts_give_up() -> None:
    core = sharing(PeerRestart(max_attempts=2, delays_s=(0.0,), connect_timeout_s=1.0))
    core.addresses(5.0, {TETHER})
    assert core.poll(5.0) == [OfferNewPeer(1, "address_lost")]
    core.peer_started(5.0, {TETHER})
    assert core.poll(6.0) == [OfferNewPeer(2, "no_connection")]
    core.peer_started(6.0, {TETHER})
    assert core.poll(7.0) == [GiveUp("no_connection")]
    assert core.poll(8.0) == []  # once


def test_no_connected_peer_for_the_give_up_time_ends_it_even_with_the_relay_away() -> None:
    core = sharing(PeerRestart(give_up_s=60.0))
    core.relay(False)
    core.peer_state(10.0, "failed")
    assert core.poll(30.0) == []  # waiting for the relay to carry the offer
    assert core.poll(70.0) == [GiveUp("peer_failed")]


def test_a_first_peer_that_never_connected_is_not_restarted() -> None:
    core = PeerRestart()
    core.relay(True)
    core.peer_started(0.0, {WIFI})
    core.peer_state(3.0, "failed")
    assert core.poll(4.0) == [GiveUp("peer_failed")]


def test_closed_is_our_own_doing_and_an_ended_session_does_nothing() -> None:
    core = sharing()
    core.peer_state(5.0, "closed")
    assert core.poll(6.0) == []
    core.ended()
    core.addresses(7.0, {TETHER})
    assert core.poll(7.0) == []


def test_negative_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="delays_s"):
        PeerRestart(delays_s=(-1.0,))


def test_a_peer_failed_after_its_consent_tolerance_counts_that_silence() -> None:
    # aiortc says failed only after ICE consent went unanswered for its tolerance: the
    # session's give-up time is already mostly spent, so the end comes soon after.
    core = sharing(PeerRestart(give_up_s=60.0))
    core.relay(False)
    core.peer_state(100.0, "failed", silent_s=48.0)
    assert core.poll(105.0) == []
    assert core.poll(112.0) == [GiveUp("peer_failed")]


def test_a_restart_still_connecting_does_not_hold_off_the_give_up() -> None:
    # The whole link is down: the relay socket has not noticed yet, so a restart is
    # offered; the session still ends when its give-up time is spent.
    core = sharing(PeerRestart(give_up_s=10.0, connect_timeout_s=10.0))
    core.peer_state(12.0, "failed", silent_s=8.0)
    assert core.poll(12.5) == [OfferNewPeer(1, "peer_failed")]
    core.peer_started(12.6, {WIFI})
    assert core.poll(13.0) == []
    assert core.poll(14.0) == [GiveUp("no_connection")]
