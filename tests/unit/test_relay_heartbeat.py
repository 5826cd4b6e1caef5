"""relay.heartbeat: when a socket is pinged and when it is cut off."""

from __future__ import annotations

from relay.heartbeat import verdict


def test_a_socket_heard_recently_needs_nothing() -> None:
    assert verdict(heard=100.0, pinged=None, now=119.9, interval=20.0) is None


def test_a_silent_socket_is_pinged_after_the_interval() -> None:
    assert verdict(heard=100.0, pinged=None, now=120.0, interval=20.0) == "ping"


def test_a_pinged_socket_has_half_the_interval_to_answer() -> None:
    assert verdict(heard=100.0, pinged=120.0, now=129.9, interval=20.0) is None
    assert verdict(heard=100.0, pinged=120.0, now=130.0, interval=20.0) == "dead"


def test_no_heartbeat_when_the_interval_is_zero() -> None:
    assert verdict(heard=0.0, pinged=None, now=10**6, interval=0.0) is None
    assert verdict(heard=0.0, pinged=1.0, now=10**6, interval=0.0) is None
