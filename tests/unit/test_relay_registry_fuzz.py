"""Random interleavings of connections, messages and time never break the registry.

Whatever order clients send valid messages in, the registry must not raise, must
never send to a socket after closing it (the harness checks that), must keep its
counts within the limits, and must leave nothing behind once every socket is
gone and the timers have run. Messages are picked per role and reuse the codes
and resume tokens the relay handed out, so runs reach claims, sessions and resumes.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol as p
from relay.effects import Send

from .test_relay_registry import Harness

V = p.PROTOCOL_VERSION
SLOTS = ["a1", "a2", "a3", "o1", "o2"]


def _handed_out(h: Harness) -> tuple[list[str], list[str], list[str]]:
    codes: list[str] = []
    tokens: list[str] = []
    issued: list[str] = []
    for effect in h.effects:
        if isinstance(effect, Send):
            m = effect.message
            if isinstance(m, p.Registered):
                codes.append(m.code)
                tokens.append(m.resume_token)
            elif isinstance(m, p.CodeIssued):
                issued.append(m.code)
    return codes or ["0000"], tokens or ["unknown"], issued or ["000000"]


def _agent_message(h: Harness, pick: int) -> p.SignalingMessage:
    codes, tokens, issued = _handed_out(h)
    options: list[p.SignalingMessage] = [
        p.Register(protocol_version=V, client_version="1", consent_accepted=True),
        p.Register(protocol_version=V, client_version="1", consent_accepted=True),
        p.Decision(allowed=True),
        p.Decision(allowed=True),
        p.Decision(allowed=False),
        p.Offer(sdp="v=0"),
        p.Ice(candidate=""),
        p.Bye(),
        p.Join(protocol_version=V, code=issued[-1], client_version="b", consent_accepted=True),
        p.Resume(protocol_version=V, resume_token=tokens[pick % len(tokens)]),
        p.Register(protocol_version=V, client_version="1", consent_accepted=False),
        p.Claim(code=codes[-1]),
    ]
    return options[pick % len(options)]


def _operator_message(h: Harness, pick: int, slot: str) -> p.SignalingMessage:
    codes, _, _ = _handed_out(h)
    user = "hanako" if slot == "o1" else "taro"
    options: list[p.SignalingMessage] = [
        p.Auth(protocol_version=V, token=f"token-{user}"),
        p.Claim(code=codes[-1]),
        p.Claim(code=codes[pick % len(codes)]),
        p.IssueCode(),
        p.Answer(sdp="v=0"),
        p.Ice(candidate=""),
        p.Bye(),
        p.Claim(code="0000"),
        p.Auth(protocol_version=V, token="bad"),
        p.Decision(allowed=True),
    ]
    return options[pick % len(options)]


def _natural_next(h: Harness, conn: str) -> p.SignalingMessage | None:
    """What a well-behaved client would send next, given the last message it got."""
    last = next(
        (e.message for e in reversed(h.effects) if isinstance(e, Send) and e.conn == conn),
        None,
    )
    codes, _, _ = _handed_out(h)
    if isinstance(last, p.OperatorRequest):
        return p.Decision(allowed=len(h.effects) % 5 != 0)
    if isinstance(last, p.Authenticated | p.Ended) and conn.startswith("o"):
        return p.Claim(code=codes[-1])
    if isinstance(last, p.SessionStart):
        return p.Offer(sdp="v=0") if conn.startswith("a") else None
    if isinstance(last, p.Offer):
        return p.Answer(sdp="v=0")
    return None


step = st.tuples(
    st.sampled_from(["send", "send", "send", "send", "drop", "tick"]),
    st.sampled_from(SLOTS),
    st.integers(min_value=0, max_value=1_000),
    st.sampled_from([1.0, 5.0, 31.0, 61.0, 700.0]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=60))
def test_random_interleavings(steps: list[tuple[str, str, int, float]]) -> None:
    h = Harness(max_live_codes=3, max_sessions=2, max_sessions_per_operator=1, failed_claims_per_operator=3)
    h.add_operator("hanako")
    h.add_operator("taro")
    current: dict[str, str] = {}
    generation = 0
    for action, slot, pick, seconds in steps:
        conn = current.get(slot)
        if action == "send":
            if conn is None or conn in h.closes or conn not in h.registry.connections():
                generation += 1
                conn = current[slot] = f"{slot}#{generation}"
                h.open(conn, "agent" if slot.startswith("a") else "operator")
                if slot.startswith("o") and pick % 7:  # mostly log in first, sometimes not
                    user = "hanako" if slot == "o1" else "taro"
                    h.send(conn, p.Auth(protocol_version=V, token=f"token-{user}"))
                    continue
            natural = _natural_next(h, conn) if pick % 3 else None
            if natural is not None:
                h.send(conn, natural)
            elif slot.startswith("a"):
                h.send(conn, _agent_message(h, pick))
            else:
                h.send(conn, _operator_message(h, pick, slot))
        elif action == "drop" and conn is not None:
            h.drop(conn)
            del current[slot]
        elif action == "tick":
            h.advance(seconds)
        stats = h.registry.stats()
        assert stats.codes_pending <= 3
        assert stats.claims_pending + stats.sessions_active <= 2
        _check_pairings(h)
    for conn in current.values():
        h.drop(conn)
    h.advance(1_000)
    assert h.store.pairings() == []
    assert list(h.registry.connections()) == []


def _check_pairings(h: Harness) -> None:
    # The code allocator's index never drifts from the store it mirrors.
    assert h.registry.codes.live() == h.store.live_codes()
    conns = set(h.registry.connections())
    for pairing in h.store.pairings():
        if pairing.phase in ("pending", "active"):
            # a claimed pairing always has its operator, and its agent, or a running grace
            # (the operator's only in a session: a claim has none)
            assert pairing.operator_conn in conns or (
                pairing.phase == "active" and pairing.operator_away_since is not None
            )
            assert pairing.agent_conn in conns or pairing.agent_away_since is not None
        holders = [c for c in (pairing.agent_conn, pairing.operator_conn) if c in conns]
        assert holders or pairing.agent_away_since is not None, pairing
