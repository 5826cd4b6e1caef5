"""Several registries (relay nodes) on one shared store, driven in memory with a fake clock.

Effects for a connection of another node are delivered there, as relay/cluster.py
does over Redis pub/sub; a routed ``Close`` makes that node's socket close, so its
registry hears ``closed`` as the glue would tell it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, TypeVar

import protocol as p
from relay.config import load_config
from relay.effects import Audit, Close, Effect, Send
from relay.registry import Registry, Role
from relay.store import MemoryStore, Pairing, Store, StoreUnavailable, TokenRecord

M = TypeVar("M", bound=p.Message)
V = p.PROTOCOL_VERSION


class FakeAuth:
    def verify(self, token: str, now: float) -> TokenRecord | None:
        user = token.removeprefix("token-")
        return TokenRecord(username=user, display_name=user, organisation="ACME", expires_at=now + 10_000)

    def active(self, username: str) -> bool:
        return True


class FlakyStore:
    """The shared store, with an off switch (Redis down). A fake for these pure units."""

    shared = True

    def __init__(self) -> None:
        self.inner = MemoryStore(shared=True)
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreUnavailable("switched off")
            return attr(*args, **kwargs)

        return call


class Nodes:
    def __init__(self, *names: str, **overrides: Any) -> None:
        overrides.setdefault("resume_grace_s", 30.0)
        self.config = load_config(env={}, data_dir=Path("/nonexistent"), **overrides)
        self.flaky = FlakyStore()
        self.store: Store = self.flaky
        self.nodes = {n: Registry(self.config, self.store, FakeAuth(), node=n) for n in names}
        self.now = 1_000_000.0
        self.inbox: dict[str, list[p.SignalingMessage]] = defaultdict(list)
        self.closed: set[str] = set()
        self.audits: list[Audit] = []

    def apply(self, effects: list[Effect]) -> None:
        for e in effects:
            if isinstance(e, Send):
                if e.conn not in self.closed:
                    self.inbox[e.conn].append(e.message)
            elif isinstance(e, Close):
                if e.conn not in self.closed:
                    self.closed.add(e.conn)
                    self.apply(self._node(e.conn).closed(e.conn, self.now))  # the socket closes there
            elif isinstance(e, Audit):
                self.audits.append(e)

    def _node(self, conn: str) -> Registry:
        return self.nodes[conn.split(".", maxsplit=1)[0]]

    def open(self, conn: str, role: Role) -> None:
        self.apply(self._node(conn).opened(conn, role, "10.0.0.1", self.now))

    def send(self, conn: str, message: p.SignalingMessage) -> None:
        self.apply(self._node(conn).received(conn, message, self.now))

    def drop(self, conn: str) -> None:
        self.closed.add(conn)
        self.apply(self._node(conn).closed(conn, self.now))

    def tick(self, *names: str) -> None:
        for name in names or tuple(self.nodes):
            self.apply(self.nodes[name].tick(self.now))

    def take(self, conn: str) -> list[p.SignalingMessage]:
        return self.inbox.pop(conn, [])

    def one(self, conn: str, kind: type[M]) -> M:
        messages = self.take(conn)
        assert len(messages) == 1, messages
        assert isinstance(messages[0], kind), messages
        return messages[0]

    def agent(self, conn: str) -> p.Registered:
        self.open(conn, "agent")
        self.send(conn, p.Register(protocol_version=V, client_version="1", consent_accepted=True))
        return self.one(conn, p.Registered)

    def operator(self, conn: str, user: str = "hanako") -> None:
        self.open(conn, "operator")
        self.send(conn, p.Auth(protocol_version=V, token=f"token-{user}"))
        self.one(conn, p.Authenticated)

    def session(self, agent: str, operator: str) -> tuple[p.Registered, p.SessionStart]:
        registered = self.agent(agent)
        self.operator(operator)
        self.send(operator, p.Claim(code=registered.code))
        self.one(operator, p.ClaimPending)
        self.one(agent, p.OperatorRequest)
        self.send(agent, p.Decision(allowed=True))
        self.one(agent, p.SessionStart)
        return registered, self.one(operator, p.SessionStart)

    def events(self, name: str) -> int:
        return sum(a.event == name for a in self.audits)


def test_a_session_across_two_nodes_and_the_operator_claims_again() -> None:
    n = Nodes("n1", "n2")
    n.session("n1.a1", "n2.o1")
    n.send("n1.a1", p.Offer(sdp="v=0 o"))
    assert n.one("n2.o1", p.Offer).sdp == "v=0 o"
    n.send("n2.o1", p.Answer(sdp="v=0 a"))
    assert n.one("n1.a1", p.Answer).sdp == "v=0 a"
    n.send("n2.o1", p.Bye(reason=p.EndReason.NORMAL))
    assert n.one("n1.a1", p.Ended).by == "operator"
    assert "n1.a1" in n.closed
    assert n.one("n2.o1", p.Ended).reason is p.EndReason.NORMAL
    # ended by the customer's node this time: the operator's node learns it lazily
    n.session("n1.a2", "n2.o2")
    n.send("n1.a2", p.Bye(reason=p.EndReason.NORMAL))
    assert n.one("n2.o2", p.Ended).by == "agent"
    registered = n.agent("n1.a3")
    n.send("n2.o2", p.Claim(code=registered.code))
    n.one("n2.o2", p.ClaimPending)
    assert n.events("session_ended") == 2


def test_two_claims_of_one_code_on_two_nodes_have_one_winner() -> None:
    n = Nodes("n1", "n2", "n3")
    registered = n.agent("n1.a1")
    n.operator("n2.o1", "hanako")
    n.operator("n3.o1", "taro")
    code = registered.code
    # n3 read the pairing before n2's claim landed: replay that by claiming from a stale read
    stale = n.store.pairing_by_code(code)
    n.send("n2.o1", p.Claim(code=code))
    n.one("n2.o1", p.ClaimPending)
    assert stale is not None
    n.flaky.inner.pairing_by_code = lambda code: stale  # type: ignore[method-assign]
    n.send("n3.o1", p.Claim(code=code))
    error = n.one("n3.o1", p.Error)
    assert error.code is p.ErrorCode.CODE_ALREADY_USED
    current = n.store.get_pairing(stale.id)
    assert current is not None
    assert current.operator == "hanako"
    assert n.events("claim_succeeded") == 1
    assert n.events("claim_failed") == 0, "losing a race is no wrong guess"


def test_every_node_ticks_but_a_code_expires_once() -> None:
    n = Nodes("n1", "n2", "n3", code_ttl_s=60)
    n.agent("n1.a1")
    n.now += 61
    n.tick("n2", "n3", "n1")
    assert n.events("code_expired") == 1
    error = n.one("n1.a1", p.Error)
    assert error.code is p.ErrorCode.EXPIRED_CODE
    assert "n1.a1" in n.closed


def test_a_code_live_on_another_node_is_never_handed_out_again() -> None:
    n = Nodes("n1", "n2")
    taken = n.agent("n1.a1").code
    pool = n.nodes["n2"].codes.pool(p.AGENT_CODE_DIGITS)
    spare = "0000" if taken != "0000" else "0001"
    for code in range(10_000):  # n2 knows nothing of n1's code: leave it and one spare to draw
        text = f"{code:04d}"
        if text not in (taken, spare):
            pool.take(text)
    assert n.agent("n2.a1").code == spare


def test_the_pool_learns_other_nodes_codes_on_tick() -> None:
    n = Nodes("n1", "n2")
    code = n.agent("n1.a1").code
    n.tick("n2")
    assert code in n.nodes["n2"].codes.live()
    n.send("n1.a1", p.Bye(reason=p.EndReason.NORMAL))
    n.tick("n2")
    assert code not in n.nodes["n2"].codes.live()


def test_a_lost_node_starts_the_grace_once_and_its_clients_resume_elsewhere() -> None:
    n = Nodes("n1", "n2", "n3")
    registered, start = n.session("n1.a1", "n1.o1")
    n.operator("n2.o9", "taro")  # a bystander on a surviving node
    for survivor in ("n2", "n3"):
        n.apply(n.nodes[survivor].node_lost("n1", n.now))
    assert n.take("n1.o1") == [p.PeerStatus(connected=False)]  # to the dead node: lost, as pub/sub would
    pairing = n.store.pairings()[0]
    assert pairing.agent_conn is None
    assert pairing.operator_conn is None
    assert pairing.agent_away_since == n.now
    n.open("n2.a1", "agent")
    n.send("n2.a1", p.Resume(protocol_version=V, resume_token=registered.resume_token))
    assert isinstance(n.take("n2.a1")[0], p.Resumed)
    n.operator("n3.o1")
    assert start.resume_token is not None
    n.send("n3.o1", p.Resume(protocol_version=V, resume_token=start.resume_token))
    assert n.take("n3.o1")[0] == p.Resumed(session_id=start.session_id)
    n.send("n2.a1", p.Offer(sdp="v=0 again"))
    assert n.take("n3.o1")[-1] == p.Offer(sdp="v=0 again")
    assert n.take("n2.o9") == []


def test_store_down_fails_closed_and_keeps_sessions() -> None:
    n = Nodes("n1", "n2")
    n.session("n1.a1", "n2.o1")
    n.operator("n2.o2", "taro")
    n.flaky.down = True
    n.open("n1.a2", "agent")
    n.send("n1.a2", p.Register(protocol_version=V, client_version="1", consent_accepted=True))
    error = n.one("n1.a2", p.Error)
    assert error.code is p.ErrorCode.UNAVAILABLE
    assert error.fatal
    assert "n1.a2" in n.closed
    n.send("n2.o2", p.Claim(code="1234"))
    error = n.one("n2.o2", p.Error)
    assert error.code is p.ErrorCode.UNAVAILABLE
    assert not error.fatal
    assert "n2.o2" not in n.closed
    n.send("n1.a1", p.Ice(candidate="c"))  # needs the store: dropped, the socket stays
    assert n.take("n2.o1") == []
    assert "n1.a1" not in n.closed
    n.drop("n2.o1")  # the operator's socket closes during the outage
    n.now += 1
    n.tick()  # nothing crashes; local timers still run
    n.flaky.down = False
    n.tick("n2")  # back: the closed socket's pairing now enters its grace
    pairing: Pairing = n.store.pairings()[0]
    assert pairing.operator_away_since is not None
    assert n.take("n1.a1") == [p.PeerStatus(connected=False)]


def test_a_node_stopping_hands_its_clients_over() -> None:
    n = Nodes("n1", "n2")
    waiting = n.agent("n1.a1")
    n.session("n1.a2", "n2.o1")
    n.apply(n.nodes["n1"].shutdown(n.now))
    assert {"n1.a1", "n1.a2"} <= n.closed
    assert n.take("n1.a1") == []  # no ended, no error: a drop, which the agent resumes
    assert n.take("n2.o1") == [p.PeerStatus(connected=False)]
    assert all(pairing.agent_away_since == n.now for pairing in n.store.pairings())
    n.open("n2.a1", "agent")
    n.send("n2.a1", p.Resume(protocol_version=V, resume_token=waiting.resume_token))
    assert n.one("n2.a1", p.Registered).code == waiting.code
    assert n.events("session_ended") == 0
