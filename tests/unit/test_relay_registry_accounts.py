"""Operator sockets follow their account: re-checked at every claim and on the timer."""

from __future__ import annotations

import protocol as p
from relay.store import TokenRecord

from .test_relay_registry import Harness


def test_claim_rechecks_the_token() -> None:
    h = Harness(token_ttl_s=100.0)
    code = h.agent().code
    h.operator()
    h.auth.tokens["token-hanako"] = TokenRecord(
        username="hanako", display_name="佐藤 花子", organisation="ACME", expires_at=h.now - 1
    )
    h.send("o1", p.Claim(code=code))
    error = h.error("o1")
    assert error.code is p.ErrorCode.NOT_AUTHORISED
    assert error.fatal
    assert "o1" in h.closes
    assert h.take("a1") == []
    assert "operator_auth_failed" in h.events()


def test_claim_uses_the_current_display_name() -> None:
    h = Harness()
    code = h.agent().code
    h.operator()
    h.add_operator("hanako", display="佐藤 花子 (改)")
    h.send("o1", p.Claim(code=code))
    h.one("o1", p.ClaimPending)
    assert h.one("a1", p.OperatorRequest).operator.display_name == "佐藤 花子 (改)"


def test_disabled_operator_is_closed_on_the_next_check_and_its_session_ended() -> None:
    h = Harness(account_check_interval_s=5.0)
    h.pair()
    h.operator("o2", username="taro")
    h.advance(0.1)
    h.auth.disabled.add("hanako")
    h.advance(1.0)
    assert "o1" not in h.closes  # not before the next check
    h.advance(5.0)
    ended = p.Ended(reason=p.EndReason.ADMIN, by="relay")
    assert h.take("a1") == [ended]
    assert h.take("o1")[0] == ended
    assert h.closes["o1"].code == 1008
    assert h.closes["a1"].code == 1000
    assert "o2" not in h.closes
    assert [a.detail["reason"] for a in h.audits if a.event == "session_ended"] == ["admin"]


def test_a_disabled_operator_who_is_away_loses_the_session_too() -> None:
    h = Harness(account_check_interval_s=5.0)
    h.pair()
    h.drop("o1")  # resume grace: the customer is told, the session waits
    assert h.take("a1") == [p.PeerStatus(connected=False)]
    h.auth.disabled.add("hanako")
    h.advance(5.1)
    assert h.take("a1") == [p.Ended(reason=p.EndReason.ADMIN, by="relay")]
    assert h.registry.stats().sessions_active == 0


def test_an_expired_token_does_not_end_a_session() -> None:
    h = Harness(account_check_interval_s=1.0)
    h.pair()
    h.auth.tokens["token-hanako"] = TokenRecord(
        username="hanako", display_name="佐藤 花子", organisation="ACME", expires_at=h.now + 1
    )
    h.advance(10.0)
    assert h.closes == {}
    h.send("a1", p.Offer(sdp="v=0"))
    assert h.one("o1", p.Offer) == p.Offer(sdp="v=0")
