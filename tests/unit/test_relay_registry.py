"""The sans-IO registry driven in memory with a fake clock."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections import defaultdict
from pathlib import Path
from typing import Any, TypeVar

import pytest

import protocol as p
from relay.config import IceServerConfig, load_config
from relay.effects import Alarm, Audit, Close, CloseCode, Count, Effect, Send
from relay.registry import Registry, Role
from relay.store import MemoryStore, TokenRecord

M = TypeVar("M", bound=p.Message)
V = p.PROTOCOL_VERSION


class FakeAuth:
    def __init__(self) -> None:
        self.tokens: dict[str, TokenRecord] = {}
        self.disabled: set[str] = set()

    def verify(self, token: str, now: float) -> TokenRecord | None:
        record = self.tokens.get(token)
        if record is None or record.username in self.disabled:
            return None
        return record if record.expires_at > now else None

    def active(self, username: str) -> bool:
        return username not in self.disabled


class Harness:
    def __init__(self, **overrides: Any) -> None:
        overrides.setdefault("allow_timeout_s", 60.0)
        overrides.setdefault("resume_grace_s", 30.0)
        self.config = load_config(env={}, data_dir=Path("/nonexistent"), **overrides)
        self.store = MemoryStore()
        self.auth = FakeAuth()
        self.registry = Registry(self.config, self.store, self.auth)
        self.now = 1_000_000.0
        self.inbox: dict[str, list[p.SignalingMessage]] = defaultdict(list)
        self.closes: dict[str, Close] = {}
        self.audits: list[Audit] = []
        self.counts: list[Count] = []
        self.alarms: list[Alarm] = []
        self.effects: list[Effect] = []
        self.operator_resume: dict[str, str] = {}
        """The secret from each operator socket's last ``session_start``."""

    def apply(self, effects: list[Effect]) -> None:
        self.effects.extend(effects)
        for e in effects:
            if isinstance(e, Send):
                assert e.conn not in self.closes, f"send to {e.conn} after close"
                p.encode(e.message)  # every message the relay sends must be encodable
                self.inbox[e.conn].append(e.message)
            elif isinstance(e, Close):
                assert e.conn not in self.closes, f"{e.conn} closed twice"
                self.closes[e.conn] = e
            elif isinstance(e, Audit):
                self.audits.append(e)
            elif isinstance(e, Count):
                self.counts.append(e)
            else:
                self.alarms.append(e)

    def open(self, conn: str, role: Role, ip: str = "10.0.0.1") -> None:
        self.apply(self.registry.opened(conn, role, ip, self.now))

    def send(self, conn: str, message: p.SignalingMessage) -> None:
        self.apply(self.registry.received(conn, message, self.now))

    def drop(self, conn: str) -> None:
        self.apply(self.registry.closed(conn, self.now))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.apply(self.registry.tick(self.now))

    def take(self, conn: str) -> list[p.SignalingMessage]:
        messages = self.inbox.pop(conn, [])
        return messages

    def one(self, conn: str, kind: type[M]) -> M:
        messages = self.take(conn)
        assert len(messages) == 1, messages
        assert isinstance(messages[0], kind), messages
        return messages[0]

    def error(self, conn: str) -> p.Error:
        return self.one(conn, p.Error)

    def add_operator(self, username: str = "hanako", display: str = "佐藤 花子", org: str = "ACME") -> str:
        token = f"token-{username}"
        self.auth.tokens[token] = TokenRecord(
            username=username, display_name=display, organisation=org, expires_at=self.now + 10_000
        )
        return token

    def agent(self, conn: str = "a1", ip: str = "10.0.0.1", **fields: Any) -> p.Registered:
        self.open(conn, "agent", ip)
        values: dict[str, Any] = {"protocol_version": V, "client_version": "1.0", "consent_accepted": True}
        values.update(fields)
        self.send(conn, p.Register(**values))
        return self.one(conn, p.Registered)

    def operator(self, conn: str = "o1", username: str = "hanako", ip: str = "10.0.0.9") -> None:
        token = self.add_operator(username)
        self.open(conn, "operator", ip)
        self.send(conn, p.Auth(protocol_version=V, token=token))
        assert self.one(conn, p.Authenticated).username == username

    def pair(self, agent: str = "a1", operator: str = "o1") -> str:
        """Register, claim, allow: returns the session id."""
        code = self.agent(agent).code
        if operator not in self.registry.connections():
            self.operator(operator)
        self.send(operator, p.Claim(code=code))
        self.one(operator, p.ClaimPending)
        self.one(agent, p.OperatorRequest)
        self.send(agent, p.Decision(allowed=True))
        start = self.one(agent, p.SessionStart)
        operator_start = self.one(operator, p.SessionStart)
        assert same_start(operator_start, start)
        self.operator_resume[operator] = operator_start.resume_token
        return start.session_id

    def events(self) -> list[str]:
        return [a.event for a in self.audits]


def same_start(operator: p.SessionStart, agent: p.SessionStart) -> bool:
    """The operator's ``session_start`` is the agent's plus its own resume secret."""
    return (
        agent.resume_token == ""
        and len(operator.resume_token) >= 40
        and (dataclasses.replace(operator, resume_token="") == agent)
    )


@pytest.fixture
def h() -> Harness:
    return Harness()


# --- registration ---------------------------------------------------------------


def test_register_gives_a_four_digit_code_and_a_resume_token(h: Harness) -> None:
    registered = h.agent()
    assert p.is_code(registered.code, 4)
    assert registered.expires_in_s == 600.0
    assert len(registered.resume_token) >= 40
    assert h.registry.stats().codes_pending == 1
    assert h.events() == ["code_issued"]
    # the resume token is a secret: it appears in no audit row
    assert registered.resume_token not in repr(h.audits)


def test_register_without_consent_is_refused_but_may_retry(h: Harness) -> None:
    h.open("a1", "agent")
    h.send("a1", p.Register(protocol_version=V, client_version="1", consent_accepted=False))
    error = h.error("a1")
    assert error.code is p.ErrorCode.CONSENT_REQUIRED
    assert not error.fatal
    assert "a1" not in h.closes
    h.send("a1", p.Register(protocol_version=V, client_version="1", consent_accepted=True))
    h.one("a1", p.Registered)


@pytest.mark.parametrize("role", ["agent", "operator"])
def test_version_mismatch_is_fatal(h: Harness, role: Role) -> None:
    h.open("c1", role)
    if role == "agent":
        h.send("c1", p.Register(protocol_version=V + 1, client_version="1", consent_accepted=True))
    else:
        h.send("c1", p.Auth(protocol_version=V + 1, token=h.add_operator()))
    error = h.error("c1")
    assert error.code is p.ErrorCode.VERSION_MISMATCH
    assert error.fatal
    assert h.closes["c1"].code is CloseCode.POLICY_VIOLATION


def test_first_agent_message_must_be_a_hello(h: Harness) -> None:
    h.open("a1", "agent")
    h.send("a1", p.Decision(allowed=True))
    assert h.error("a1").code is p.ErrorCode.UNEXPECTED_MESSAGE
    assert "a1" in h.closes
    assert "protocol_error" in h.events()


def test_claim_without_login_is_refused(h: Harness) -> None:
    code = h.agent().code
    h.open("o1", "operator")
    h.send("o1", p.Claim(code=code))
    error = h.error("o1")
    assert error.code is p.ErrorCode.NOT_AUTHORISED
    assert error.fatal
    assert "o1" in h.closes
    assert h.take("a1") == []  # the customer was not bothered


def test_bad_token_is_refused_and_audited(h: Harness) -> None:
    h.open("o1", "operator")
    h.send("o1", p.Auth(protocol_version=V, token="forged"))
    assert h.error("o1").code is p.ErrorCode.NOT_AUTHORISED
    assert h.events() == ["operator_auth_failed"]


# --- the happy path -------------------------------------------------------------


def test_claim_shows_the_operator_identity_and_allow_starts_the_session(h: Harness) -> None:
    code = h.agent(client="browser", sysinfo_scope="normal", client_version="2.0").code
    h.operator()
    h.send("o1", p.Claim(code=code))
    pending = h.one("o1", p.ClaimPending)
    assert (pending.client, pending.sysinfo_scope, pending.client_version, pending.timeout_s) == (
        "browser",
        "normal",
        "2.0",
        60.0,
    )
    request = h.one("a1", p.OperatorRequest)
    assert request.operator == p.OperatorIdentity(display_name="佐藤 花子", organisation="ACME")
    assert request.timeout_s == 60.0
    assert h.registry.stats().claims_pending == 1
    h.send("a1", p.Decision(allowed=True))
    start = h.one("a1", p.SessionStart)
    assert same_start(h.one("o1", p.SessionStart), start)
    assert start.ice_servers == ()  # no public STUN by default
    assert h.registry.stats().sessions_active == 1
    assert h.events()[-3:] == ["claim_succeeded", "allowed", "session_started"]
    claim = next(a for a in h.audits if a.event == "claim_succeeded")
    assert (claim.operator, claim.ip, claim.code) == ("hanako", "10.0.0.9", code)


def test_signaling_is_forwarded_only_in_the_right_direction(h: Harness) -> None:
    h.pair()
    offer = p.Offer(sdp="v=0\r\n")
    h.send("a1", offer)
    assert h.take("o1") == [offer]
    answer = p.Answer(sdp="v=0\r\na\r\n")
    h.send("o1", answer)
    assert h.take("a1") == [answer]
    ice = p.Ice(candidate="candidate:x", sdp_mid="0", sdp_mline_index=0)
    h.send("a1", ice)
    h.send("o1", ice)
    assert h.take("o1") == [ice]
    assert h.take("a1") == [ice]
    # an operator may not send an offer: that connection is closed, the agent is told
    h.send("o1", p.Offer(sdp="v=0\r\n"))
    assert h.take("o1")[0] == p.Error(
        code=p.ErrorCode.UNEXPECTED_MESSAGE,
        message="offer: not allowed while active (one session per connection)",
        fatal=True,
    )
    assert "o1" in h.closes
    assert h.take("a1") == [p.Ended(reason=p.EndReason.PEER_GONE, by="operator")]
    assert "a1" in h.closes


def test_bye_ends_for_both_closes_the_agent_and_keeps_the_operator(h: Harness) -> None:
    h.pair()
    h.advance(42)
    h.send("a1", p.Bye())
    ended = p.Ended(reason=p.EndReason.NORMAL, by="agent")
    assert h.take("a1") == [ended]
    assert h.take("o1") == [ended]
    assert h.closes["a1"].code is CloseCode.NORMAL
    assert "o1" not in h.closes
    end = next(a for a in h.audits if a.event == "session_ended")
    assert end.detail["duration_s"] == 42.0
    assert end.detail["by"] == "agent"
    # the operator's socket may claim again
    code = h.agent("a2").code
    h.send("o1", p.Claim(code=code))
    h.one("o1", p.ClaimPending)


def test_operator_bye_ends_the_session(h: Harness) -> None:
    h.pair()
    h.send("o1", p.Bye())
    ended = p.Ended(reason=p.EndReason.NORMAL, by="operator")
    assert h.take("a1") == [ended]
    assert h.take("o1") == [ended]
    assert h.registry.stats().sessions_active == 0


def test_a_late_bye_is_quiet_but_a_bye_from_nowhere_is_answered(h: Harness) -> None:
    h.pair()
    h.send("a1", p.Bye())
    assert h.take("o1") == [p.Ended(reason=p.EndReason.NORMAL, by="agent")]
    h.send("o1", p.Bye())  # crossed the end on the wire: nothing to say
    assert h.take("o1") == []
    assert "o1" not in h.closes
    h.operator("o2", username="taro")
    h.send("o2", p.Bye())  # never had a session: told so, like any message out of place
    (reply,) = h.take("o2")
    assert isinstance(reply, p.Error)
    assert reply.code is p.ErrorCode.UNEXPECTED_MESSAGE


def test_messages_out_of_order_are_refused(h: Harness) -> None:
    h.agent()
    h.send("a1", p.Offer(sdp="v=0"))  # before the session exists
    assert h.error("a1").code is p.ErrorCode.UNEXPECTED_MESSAGE
    assert "a1" in h.closes


def test_one_session_per_operator_socket(h: Harness) -> None:
    h.pair()
    code = h.agent("a2").code
    h.send("o1", p.Claim(code=code))
    assert h.take("o1")[0].code is p.ErrorCode.UNEXPECTED_MESSAGE  # type: ignore[union-attr]
    assert "o1" in h.closes


# --- deny, timeouts ---------------------------------------------------------------


def test_deny_ends_the_claim_and_uses_the_code(h: Harness) -> None:
    code = h.agent().code
    h.operator()
    h.send("o1", p.Claim(code=code))
    h.take("o1")
    h.take("a1")
    h.send("a1", p.Decision(allowed=False))
    ended = p.Ended(reason=p.EndReason.DENIED, by="agent")
    assert h.take("a1") == [ended]
    assert h.take("o1") == [ended]
    assert "a1" in h.closes
    assert "o1" not in h.closes
    assert "denied" in h.events()
    h.send("o1", p.Claim(code=code))
    assert h.error("o1").code is p.ErrorCode.CODE_ALREADY_USED


def test_allow_timeout(h: Harness) -> None:
    code = h.agent().code
    h.operator()
    h.send("o1", p.Claim(code=code))
    h.take("o1")
    h.take("a1")
    h.advance(59.9)
    assert h.take("a1") == []
    h.advance(0.2)
    ended = p.Ended(reason=p.EndReason.ALLOW_TIMEOUT, by="relay")
    assert h.take("a1") == [ended]
    assert h.take("o1") == [ended]
    assert "allow_timeout" in h.events()


def test_the_agents_countdown_running_out_is_a_timeout_not_a_refusal(h: Harness) -> None:
    """The agent's own countdown ends first: audited and reported as allow_timeout, never denied."""
    code = h.agent().code
    h.operator()
    h.send("o1", p.Claim(code=code))
    h.take("o1")
    h.take("a1")
    h.send("a1", p.Decision(allowed=False, timed_out=True))
    ended = p.Ended(reason=p.EndReason.ALLOW_TIMEOUT, by="agent")
    assert h.take("a1") == [ended]
    assert h.take("o1") == [ended]
    assert "allow_timeout" in h.events()
    assert "denied" not in h.events()


def test_unclaimed_code_expires(h: Harness) -> None:
    code = h.agent().code
    h.advance(599)
    assert h.take("a1") == []
    h.advance(2)
    error = h.error("a1")
    assert error.code is p.ErrorCode.EXPIRED_CODE
    assert error.fatal
    assert "a1" in h.closes
    h.operator()
    h.send("o1", p.Claim(code=code))
    assert h.error("o1").code is p.ErrorCode.EXPIRED_CODE
    assert h.events().count("code_expired") == 1


def test_unknown_code(h: Harness) -> None:
    code = h.agent().code
    h.operator()
    wrong = next(c for c in (f"{i:04d}" for i in range(10_000)) if c != code)
    h.send("o1", p.Claim(code=wrong))
    assert h.error("o1").code is p.ErrorCode.UNKNOWN_CODE
    h.send("o1", p.Claim(code="not a code"))
    assert h.error("o1").code is p.ErrorCode.UNKNOWN_CODE
    failed = [a for a in h.audits if a.event == "claim_failed"]
    assert [a.detail["reason"] for a in failed] == ["unknown_code", "unknown_code"]
    assert failed[0].operator == "hanako"
    assert failed[0].ip == "10.0.0.9"


def test_hello_timeout_and_operator_idle_timeout(h: Harness) -> None:
    h.open("a1", "agent")
    h.operator()
    h.advance(16)
    assert h.error("a1").code is p.ErrorCode.IDLE_TIMEOUT
    assert "a1" in h.closes
    assert "o1" not in h.closes
    h.advance(3600)
    assert h.error("o1").code is p.ErrorCode.IDLE_TIMEOUT
    assert "o1" in h.closes


# --- limits ---------------------------------------------------------------------


def test_brute_force_gets_at_most_the_configured_number_of_guesses(h: Harness) -> None:
    code = h.agent().code
    h.operator()
    wrong = [c for c in (f"{i:04d}" for i in range(10_000)) if c != code][:50]
    for guess in wrong:
        h.send("o1", p.Claim(code=guess))
    replies = [m.code for m in h.take("o1") if isinstance(m, p.Error)]
    assert replies[:5] == [p.ErrorCode.UNKNOWN_CODE] * 5
    assert set(replies[5:]) == {p.ErrorCode.LOCKED_OUT}
    assert h.events().count("claim_failed") == 5
    assert h.events().count("lockout") == 1
    # even the right code is not looked at while locked out
    h.send("o1", p.Claim(code=code))
    assert h.error("o1").code is p.ErrorCode.LOCKED_OUT
    assert h.take("a1") == []
    # a second socket of the same operator is locked too
    h.open("o2", "operator", "10.0.0.9")
    h.send("o2", p.Auth(protocol_version=V, token="token-hanako"))
    h.take("o2")
    h.send("o2", p.Claim(code=code))
    assert h.error("o2").code is p.ErrorCode.LOCKED_OUT
    # after the lockout the operator may claim again
    h.now += 901
    h.send("o1", p.Claim(code=code))
    h.one("o1", p.ClaimPending)


def test_failed_claims_per_ip_across_operators() -> None:
    h = Harness(failed_claims_per_ip=3, failed_claims_per_operator=100)
    for i in range(3):
        h.operator(f"o{i}", f"user{i}", ip="192.0.2.1")
        h.send(f"o{i}", p.Claim(code="0000"))
        assert h.error(f"o{i}").code is p.ErrorCode.UNKNOWN_CODE
    h.operator("o9", "user9", ip="192.0.2.1")
    h.send("o9", p.Claim(code="0000"))
    error = h.error("o9")
    assert error.code is p.ErrorCode.RATE_LIMITED
    assert error.retry_after_s
    h.operator("o8", "user8", ip="192.0.2.2")  # another address is unaffected
    h.send("o8", p.Claim(code="0000"))
    assert h.error("o8").code is p.ErrorCode.UNKNOWN_CODE


def test_global_failed_claim_alarm() -> None:
    h = Harness(failed_claims_alarm=4, failed_claims_per_operator=100, failed_claims_per_ip=100)
    h.operator()
    for _ in range(3):
        h.send("o1", p.Claim(code="0000"))
    assert h.alarms == []
    h.send("o1", p.Claim(code="0000"))
    assert h.alarms == [Alarm("failed_claims", True, "4 failed claims/joins in the last 900 s")]
    assert "failed_claims_alarm" in h.events()
    h.advance(901)
    assert h.alarms[-1].active is False


def test_capacity_live_codes_busy_and_recovery() -> None:
    h = Harness(max_live_codes=2, busy_retry_after_s=30)
    h.agent("a1")
    h.agent("a2")
    h.open("a3", "agent")
    h.send("a3", p.Register(protocol_version=V, client_version="1", consent_accepted=True))
    error = h.error("a3")
    assert (error.code, error.retry_after_s, error.fatal) == (p.ErrorCode.BUSY, 30.0, True)
    assert h.closes["a3"].code is CloseCode.TRY_AGAIN_LATER
    assert Count("registrations_refused", "busy") in h.counts
    h.send("a1", p.Bye())
    h.agent("a4")  # a line is free again


def test_capacity_sessions_busy() -> None:
    h = Harness(max_sessions=1)
    h.pair()
    h.open("a2", "agent")
    h.send("a2", p.Register(protocol_version=V, client_version="1", consent_accepted=True))
    assert h.error("a2").code is p.ErrorCode.BUSY
    h.send("o1", p.Bye())
    h.agent("a3")


def test_claim_refused_when_sessions_full() -> None:
    h = Harness(max_sessions=1)
    code = h.agent("a2").code  # registered while there was room
    h.pair("a1", "o1")
    h.operator("o2", "taro")
    h.send("o2", p.Claim(code=code))
    error = h.error("o2")
    assert error.code is p.ErrorCode.BUSY
    assert not error.fatal


def test_operator_session_limit_across_sockets() -> None:
    h = Harness(max_sessions_per_operator=1)
    h.pair("a1", "o1")
    code = h.agent("a2").code
    h.open("o2", "operator")
    h.send("o2", p.Auth(protocol_version=V, token="token-hanako"))
    h.take("o2")
    h.send("o2", p.Claim(code=code))
    assert h.error("o2").code is p.ErrorCode.OPERATOR_SESSION_LIMIT
    assert h.events().count("claim_failed") == 0  # not a wrong guess


def test_registrations_per_ip() -> None:
    h = Harness(registrations_per_ip=2)
    h.agent("a1", ip="198.51.100.7")
    h.agent("a2", ip="198.51.100.7")
    h.open("a3", "agent", "198.51.100.7")
    h.send("a3", p.Register(protocol_version=V, client_version="1", consent_accepted=True))
    assert h.error("a3").code is p.ErrorCode.RATE_LIMITED
    h.agent("a4", ip="198.51.100.8")


def test_live_codes_are_unique_and_typo_safe() -> None:
    h = Harness(max_live_codes=250, registrations_per_ip=1000, max_live_codes_per_ip=250)
    codes = [h.agent(f"a{i}").code for i in range(200)]
    assert len(set(codes)) == 200
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            assert not p.are_typo_neighbours(a, b), (a, b)


def test_recently_used_codes_are_not_reissued() -> None:
    h = Harness(registrations_per_ip=1000)
    code = h.agent("a1").code
    h.send("a1", p.Bye())
    for i in range(300):  # more in test_relay_code_allocation.py
        assert h.agent(f"b{i}").code != code
        h.send(f"b{i}", p.Bye())


# --- peers vanishing, resume ------------------------------------------------------


def test_operator_vanishing_keeps_the_session_for_the_grace_then_ends(h: Harness) -> None:
    h.pair()
    h.drop("o1")
    assert h.take("a1") == [p.PeerStatus(connected=False)]
    assert h.registry.stats().sessions_active == 1
    h.advance(29)
    assert h.take("a1") == []
    h.advance(2)
    assert h.take("a1") == [p.Ended(reason=p.EndReason.PEER_GONE, by="operator")]
    assert "a1" in h.closes
    assert h.registry.stats().sessions_active == 0


def test_operator_vanishing_while_the_customer_decides_ends_the_claim(h: Harness) -> None:
    code = h.agent().code
    h.operator()
    h.send("o1", p.Claim(code=code))
    h.take("a1")
    h.drop("o1")
    assert h.take("a1") == [p.Ended(reason=p.EndReason.PEER_GONE, by="operator")]


def test_operator_resumes_its_session_with_the_secret(h: Harness) -> None:
    session_id = h.pair()
    secret = h.operator_resume["o1"]
    h.drop("o1")
    h.take("a1")
    offer = p.Offer(sdp="v=0\r\n")
    h.send("a1", offer)  # a renegotiation while the operator is away waits for it
    h.advance(20)
    h.operator("o2")
    h.send("o2", p.Resume(protocol_version=V, resume_token=secret))
    assert h.take("o2") == [p.Resumed(session_id=session_id), offer]
    assert h.take("a1") == [p.PeerStatus(connected=True)]
    assert "operator_resumed" in h.events()
    h.send("o2", p.Ice(candidate=""))
    assert h.take("a1") == [p.Ice(candidate="")]
    h.advance(60)  # the grace no longer runs
    assert h.registry.stats().sessions_active == 1
    h.send("o2", p.Bye())
    assert h.one("a1", p.Ended).by == "operator"
    assert secret not in repr(h.audits)


def test_operator_resume_refuses_the_code_a_wrong_secret_and_another_operator(h: Harness) -> None:
    h.pair()
    code = h.store.pairings()[0].code
    secret = h.operator_resume["o1"]
    h.drop("o1")
    h.take("a1")
    h.operator("o2")
    for wrong in (code, secret[:-1] + ("A" if secret[-1] != "A" else "B")):
        h.send("o2", p.Resume(protocol_version=V, resume_token=wrong))
        error = h.error("o2")
        assert error.code is p.ErrorCode.UNKNOWN_RESUME_TOKEN
        assert not error.fatal  # still logged in: may claim again
    h.operator("o3", username="taro")
    h.send("o3", p.Resume(protocol_version=V, resume_token=secret))
    assert h.error("o3").code is p.ErrorCode.UNKNOWN_RESUME_TOKEN
    failed = [a for a in h.audits if a.event == "resume_failed"]
    assert [(a.operator, a.detail["why"]) for a in failed] == [
        ("hanako", "unknown"),
        ("hanako", "unknown"),
        ("taro", "other_operator"),
    ]
    # The agent's token does not resume the operator's side, nor the other way round.
    h.open("a9", "agent")
    h.send("a9", p.Resume(protocol_version=V, resume_token=secret))
    assert h.error("a9").code is p.ErrorCode.UNKNOWN_RESUME_TOKEN
    assert h.take("a1") == []
    assert h.registry.stats().sessions_active == 1


def test_both_away_then_both_resume(h: Harness) -> None:
    token = h.agent().resume_token
    h.operator()
    h.send("o1", p.Claim(code=h.store.pairings()[0].code))
    h.take("o1")
    h.take("a1")
    h.send("a1", p.Decision(allowed=True))
    h.take("a1")
    secret = h.one("o1", p.SessionStart).resume_token
    h.drop("o1")
    h.drop("a1")
    h.advance(10)
    h.open("a2", "agent")
    h.send("a2", p.Resume(protocol_version=V, resume_token=token))
    replies = h.take("a2")
    assert isinstance(replies[0], p.Resumed)
    assert replies[-1] == p.PeerStatus(connected=False)  # the operator is not back yet
    h.operator("o2")
    h.send("o2", p.Resume(protocol_version=V, resume_token=secret))
    assert isinstance(h.take("o2")[0], p.Resumed)
    assert h.take("a2") == [p.PeerStatus(connected=True)]


def test_a_restarted_relay_refuses_the_operator_resume(h: Harness) -> None:
    h.pair()
    secret = h.operator_resume["o1"]
    fresh = Harness()  # the relay's state is gone; the login token survives (accounts DB)
    fresh.operator("o1")
    fresh.send("o1", p.Resume(protocol_version=V, resume_token=secret))
    error = fresh.error("o1")
    assert error.code is p.ErrorCode.UNKNOWN_RESUME_TOKEN
    assert "restarted" in error.message


def test_agent_vanishing_keeps_the_session_for_the_grace_then_ends(h: Harness) -> None:
    h.pair()
    h.drop("a1")
    assert h.take("o1") == [p.PeerStatus(connected=False)]
    h.advance(29)
    assert h.take("o1") == []
    h.advance(2)
    assert h.take("o1") == [p.Ended(reason=p.EndReason.PEER_GONE, by="agent")]
    end = next(a for a in h.audits if a.event == "session_ended")
    assert end.detail["reason"] == "peer_gone"


def test_resume_while_waiting_keeps_the_code(h: Harness) -> None:
    registered = h.agent()
    h.advance(100)
    h.drop("a1")
    h.open("a2", "agent")
    h.send("a2", p.Resume(protocol_version=V, resume_token=registered.resume_token))
    again = h.one("a2", p.Registered)
    assert again.code == registered.code
    assert again.resume_token == registered.resume_token
    assert 499 <= again.expires_in_s <= 500
    h.operator()
    h.send("o1", p.Claim(code=registered.code))
    h.one("o1", p.ClaimPending)
    h.one("a2", p.OperatorRequest)


def test_claim_while_agent_away_is_not_a_failure(h: Harness) -> None:
    registered = h.agent()
    h.drop("a1")
    h.operator()
    h.send("o1", p.Claim(code=registered.code))
    error = h.error("o1")
    assert error.code is p.ErrorCode.PEER_GONE
    assert error.retry_after_s
    assert "claim_failed" not in h.events()


def test_resume_while_pending_asks_again(h: Harness) -> None:
    registered = h.agent()
    h.operator()
    h.send("o1", p.Claim(code=registered.code))
    h.take("o1")
    h.take("a1")
    h.advance(10)
    h.drop("a1")
    assert h.take("o1") == [p.PeerStatus(connected=False)]
    h.open("a2", "agent")
    h.send("a2", p.Resume(protocol_version=V, resume_token=registered.resume_token))
    replies = h.take("a2")
    assert isinstance(replies[0], p.Registered)
    assert isinstance(replies[1], p.OperatorRequest)
    assert 49 <= replies[1].timeout_s <= 50
    assert h.take("o1") == [p.PeerStatus(connected=True)]
    h.send("a2", p.Decision(allowed=True))
    h.one("a2", p.SessionStart)


def test_resume_in_session_delivers_what_was_sent_meanwhile(h: Harness) -> None:
    registered_token = h.agent().resume_token
    h.operator()
    h.send("o1", p.Claim(code=h.store.pairings()[0].code))
    h.take("o1")
    h.take("a1")
    h.send("a1", p.Decision(allowed=True))
    session_id = h.one("a1", p.SessionStart).session_id
    h.take("o1")
    h.drop("a1")
    h.take("o1")
    answer = p.Answer(sdp="v=0\r\n")
    h.send("o1", answer)
    h.open("a2", "agent")
    h.send("a2", p.Resume(protocol_version=V, resume_token=registered_token))
    assert h.take("a2") == [p.Resumed(session_id=session_id), answer]
    assert h.take("o1") == [p.PeerStatus(connected=True)]
    assert "agent_resumed" in h.events()
    h.send("a2", p.Ice(candidate=""))
    assert h.take("o1") == [p.Ice(candidate="")]


def test_resume_replaces_a_stale_socket(h: Harness) -> None:
    token = h.agent().resume_token
    h.open("a2", "agent")
    h.send("a2", p.Resume(protocol_version=V, resume_token=token))
    h.one("a2", p.Registered)
    assert "a1" in h.closes
    h.drop("a1")  # the stale socket's own close arrives later: no effect
    assert h.registry.stats().codes_pending == 1


def test_unknown_resume_token(h: Harness) -> None:
    h.open("a1", "agent")
    h.send("a1", p.Resume(protocol_version=V, resume_token="nope"))
    error = h.error("a1")
    assert error.code is p.ErrorCode.UNKNOWN_RESUME_TOKEN
    assert error.fatal


def test_no_grace_means_immediate_end() -> None:
    h = Harness(resume_grace_s=0)
    h.pair()
    h.drop("a1")
    assert h.take("o1") == [p.Ended(reason=p.EndReason.PEER_GONE, by="agent")]


# --- reverse pairing (R2) ---------------------------------------------------------


def join(h: Harness, conn: str, code: str, **fields: Any) -> None:
    h.open(conn, "agent", fields.pop("ip", "10.0.0.1"))
    values: dict[str, Any] = {"protocol_version": V, "client_version": "b", "consent_accepted": True}
    values.update(fields)
    h.send(conn, p.Join(code=code, **values))


def test_issue_code_and_join(h: Harness) -> None:
    h.operator()
    h.send("o1", p.IssueCode())
    issued = h.one("o1", p.CodeIssued)
    assert p.is_code(issued.code, 6)
    join(h, "a1", issued.code)
    replies = h.take("a1")
    assert isinstance(replies[0], p.Registered)
    assert replies[0].code == issued.code
    assert isinstance(replies[1], p.OperatorRequest)
    assert replies[1].operator.display_name == "佐藤 花子"
    assert h.one("o1", p.ClaimPending).client == "agent"
    h.send("a1", p.Decision(allowed=True))
    assert same_start(h.one("o1", p.SessionStart), h.one("a1", p.SessionStart))
    assert "join_succeeded" in h.events()


def test_join_wrong_codes_are_limited_per_address(h: Harness) -> None:
    for i in range(5):
        join(h, f"a{i}", "000000")
        error = h.error(f"a{i}")
        assert error.code is p.ErrorCode.UNKNOWN_CODE
        assert not error.fatal
    join(h, "a9", "000000")
    error = h.error("a9")
    assert error.code is p.ErrorCode.RATE_LIMITED
    assert error.fatal
    assert h.events().count("join_failed") == 5


def test_issued_code_expires_and_can_be_withdrawn(h: Harness) -> None:
    h.operator()
    h.send("o1", p.IssueCode())
    code = h.one("o1", p.CodeIssued).code
    h.advance(601)
    error = h.error("o1")
    assert error.code is p.ErrorCode.EXPIRED_CODE
    assert not error.fatal
    join(h, "a1", code)
    assert h.error("a1").code is p.ErrorCode.EXPIRED_CODE
    h.send("o1", p.IssueCode())
    h.one("o1", p.CodeIssued)
    h.send("o1", p.Bye())
    assert h.one("o1", p.Ended).by == "operator"
    assert h.registry.stats().codes_pending == 0


def test_claiming_an_operator_code_is_unknown(h: Harness) -> None:
    h.operator()
    h.send("o1", p.IssueCode())
    code = h.one("o1", p.CodeIssued).code
    h.operator("o2", "taro")
    h.send("o2", p.Claim(code=code))
    assert h.error("o2").code is p.ErrorCode.UNKNOWN_CODE


# --- bad input, shutdown, ICE -----------------------------------------------------


def test_rejected_input_closes_only_that_socket(h: Harness) -> None:
    h.pair()
    h.agent("a2")
    h.apply(h.registry.rejected("a2", p.ProtocolError("not valid JSON"), h.now))
    assert h.error("a2").code is p.ErrorCode.BAD_MESSAGE
    assert h.closes["a2"].code is CloseCode.POLICY_VIOLATION
    too_big = p.ProtocolError("too big", p.ErrorCode.MESSAGE_TOO_LARGE)
    h.apply(h.registry.rejected("a1", too_big, h.now))
    assert h.closes["a1"].code is CloseCode.MESSAGE_TOO_BIG
    assert h.take("o1")[-1] == p.Ended(reason=p.EndReason.PEER_GONE, by="agent")
    assert "o1" not in h.closes


def test_shutdown_tells_everyone(h: Harness) -> None:
    h.pair()
    h.agent("a2")
    h.operator("o2", "taro")
    h.open("x", "agent")
    h.apply(h.registry.shutdown(h.now))
    ended = p.Ended(reason=p.EndReason.SHUTDOWN, by="relay")
    assert h.take("a1") == [ended]
    assert h.take("a2") == [ended]
    assert h.take("o1")[0] == ended
    assert h.error("o2").code is p.ErrorCode.SHUTTING_DOWN
    assert h.error("x").code is p.ErrorCode.SHUTTING_DOWN
    assert {c.code for c in h.closes.values()} == {CloseCode.GOING_AWAY}
    assert set(h.closes) == {"a1", "a2", "o1", "o2", "x"}


def test_turn_rest_credentials() -> None:
    secret = "s3cret"
    h = Harness(
        ice_servers=(
            IceServerConfig(urls=("stun:stun.example:3478",)),
            IceServerConfig(urls=("turn:turn.example:3478",), turn_rest_secret=secret, turn_rest_ttl_s=600),
        )
    )
    session_id = h.pair()
    starts = [e.message for e in h.effects if isinstance(e, Send) and isinstance(e.message, p.SessionStart)]
    assert len(starts) == 2
    assert starts[0].session_id == session_id
    servers = starts[0].ice_servers
    assert servers[0] == p.IceServer(urls=("stun:stun.example:3478",))
    turn = servers[1]
    assert turn.username == f"{int(h.now) + 600}:{session_id}"
    mac = hmac.new(secret.encode(), turn.username.encode(), hashlib.sha1).digest()
    assert turn.credential == base64.b64encode(mac).decode()
