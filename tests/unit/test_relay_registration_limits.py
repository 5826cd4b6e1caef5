"""Per-address limits with the default configuration, on the sans-IO registry with a test clock.

* One address registering as fast as it is allowed, for a whole code lifetime, never
  holds more than its share of the live codes: other customers still get codes.
* The guesses one operator account, or one address with several accounts, gets per
  window hit a live code with at most the probability docs/security.md states (10 %).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import protocol as p
from relay.config import Limits, RelayConfig

from .test_relay_registry import Harness

V = p.PROTOCOL_VERSION
SPACE = 10**p.AGENT_CODE_DIGITS
SECURITY_MD = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text(encoding="utf-8")


def _register(h: Harness, conn: str, ip: str) -> p.SignalingMessage:
    h.open(conn, "agent", ip)
    h.send(conn, p.Register(protocol_version=V, client_version="1", consent_accepted=True))
    (reply,) = h.take(conn)
    return reply


def test_one_address_cannot_exhaust_the_live_codes() -> None:
    h = Harness()
    lim, ttl = h.config.limits, h.config.code_ttl_s
    held: list[str] = []
    n = 0
    # As fast as the registration rate allows, for a whole code lifetime and then some.
    while h.now < 1_000_000.0 + 1.5 * ttl:
        reply = _register(h, f"flood{n}", "198.51.100.66")
        n += 1
        if isinstance(reply, p.Registered):
            held.append(reply.code)
        else:
            assert isinstance(reply, p.Error)
            assert (reply.code, reply.fatal) == (p.ErrorCode.RATE_LIMITED, True)
            assert reply.retry_after_s
            h.advance(lim.registrations_window_s / 4)
        assert h.registry.stats().codes_pending < lim.max_live_codes
    # Never more than its share at once, and everyone else is still served.
    assert h.registry.stats().codes_pending <= lim.max_live_codes_per_ip
    assert isinstance(_register(h, "customer", "203.0.113.5"), p.Registered)
    refused = [a.detail for a in h.audits if a.event == "registration_refused"]
    assert {"reason": "rate_limited", "limit": "max_live_codes_per_ip"} in refused


def test_the_per_address_cap_counts_waiting_codes_only() -> None:
    h = Harness(max_live_codes_per_ip=2, registrations_per_ip=100)
    ip = "198.51.100.7"
    first = h.agent("a1", ip=ip)
    h.agent("a2", ip=ip)
    reply = _register(h, "a3", ip)
    assert isinstance(reply, p.Error)
    assert reply.code is p.ErrorCode.RATE_LIMITED
    assert h.closes["a3"].code.value == 1013
    # Once a code is claimed, the customer is in a session: the address may register again.
    h.operator()
    h.send("o1", p.Claim(code=first.code))
    h.take("o1")
    assert isinstance(_register(h, "a4", ip), p.Registered)
    # Another address was never affected.
    assert isinstance(_register(h, "b1", "198.51.100.8"), p.Registered)


def _hit_probability(live: int, guesses: int, space: int = SPACE) -> float:
    """Chance that ``guesses`` distinct wrong-or-right guesses find one of ``live`` codes."""
    if guesses > space - live:
        return 1.0
    return 1.0 - math.comb(space - live, guesses) / math.comb(space, guesses)


def _guesses_evaluated(h: Harness, accounts: int) -> int:
    """Guesses of ``accounts`` operators behind one address that reach the code check."""
    for i in range(accounts):
        h.operator(f"o{i}", f"user{i}", ip="192.0.2.1")
    evaluated = 0
    for _ in range(100):
        for i in range(accounts):
            h.send(f"o{i}", p.Claim(code="0000"))
            replies = h.take(f"o{i}")
            assert replies
            assert all(isinstance(r, p.Error) for r in replies)
            evaluated += sum(isinstance(r, p.Error) and r.code is p.ErrorCode.UNKNOWN_CODE for r in replies)
    return evaluated


def test_guessing_odds_per_account_and_per_address_stay_within_ten_percent() -> None:
    lim = Limits()
    per_account = _guesses_evaluated(Harness(), 1)
    per_address = _guesses_evaluated(Harness(), 4)
    assert per_account == lim.failed_claims_per_operator
    assert per_address == lim.failed_claims_per_ip
    for guesses in (per_account, per_address):
        assert _hit_probability(lim.max_live_codes, guesses) <= 0.10
    # docs/security.md states these very numbers.
    for guesses in (per_account, per_address):
        odds = f"{100 * _hit_probability(lim.max_live_codes, guesses):.1f} %"
        assert odds in SECURITY_MD, odds


def test_what_one_address_may_hold_is_a_small_share_of_the_relay() -> None:
    config = RelayConfig()
    lim = config.limits
    by_rate = lim.registrations_per_ip * math.ceil(config.code_ttl_s / lim.registrations_window_s)
    holds = min(lim.max_live_codes_per_ip, by_rate)
    assert holds * 10 <= lim.max_live_codes  # at least ten addresses to fill the relay
    assert lim.max_live_codes <= lim.max_sessions  # a waiting code beyond free sessions is useless
    # docs/operations.md and docs/security.md give the defaults.
    assert re.search(rf"`max_live_codes_per_ip` \| {lim.max_live_codes_per_ip} \|", _doc("operations.md"))


def _doc(name: str) -> str:
    return (Path(__file__).resolve().parents[2] / "docs" / name).read_text(encoding="utf-8")
