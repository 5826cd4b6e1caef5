"""A real coturn (started here, hardened as in docs/operations.md) and the relay's REST credentials.

* The credentials the relay mints per session allocate on coturn, over UDP and over
  TLS with a private CA.
* A wrong secret, an untrusted certificate or a silent server is a named problem at
  both peers (client_core.turn), never silence.
* coturn refuses to relay toward private and loopback addresses (denied-peer-ip).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import aioice.stun
import aioice.turn
import pytest

import protocol as p
from agent.peer import AgentPeer
from client_core.effects import TurnTrouble
from client_core.turn import TurnProblem, TurnProblemKind, choose_turn, turn_gathering
from operator_console.client import OperatorClient, OperatorEvent
from relay.config import IceServerConfig
from relay.server import RunningRelay, running_relay
from testbed.certs import TestCA
from testbed.customer import Customer
from testbed.operator import operator_view
from testbed.turn import RunningTurn, TurnPlan, running_turnserver
from testbed.world import picture_display
from tests.functional.relay_session import PASSWORD, claimed
from tests.functional.test_peers import SolidTrack

SECRET = secrets.token_urlsafe(24)


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def coturn(ca: TestCA) -> Iterator[RunningTurn]:
    plan = TurnPlan(
        listen_ip="127.0.0.1",
        secret=SECRET,
        port=_free_port(),
        tls_port=_free_port(),
        certificate=ca.issue("127.0.0.1"),
        min_port=40000,
        max_port=40999,
    )
    with running_turnserver(plan) as turn:
        yield turn


def _client_context(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


async def _session_ice_servers(tmp_path: Path, coturn: RunningTurn, secret: str) -> tuple[p.IceServer, ...]:
    """Run a relay configured for ``coturn`` with ``secret``; the ICE servers its session_start hands out."""
    ice = (IceServerConfig(urls=coturn.plan.urls(), turn_rest_secret=secret, turn_rest_ttl_s=600),)
    async with (
        running_relay(data_dir=tmp_path / "relay", ice_servers=ice) as relay,
        aiohttp.ClientSession() as http,
    ):
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        return await _start(http, relay)


async def _start(http: aiohttp.ClientSession, relay: RunningRelay) -> tuple[p.IceServer, ...]:
    agent, op, _ = await claimed(http, relay)
    await agent.send(p.Decision(allowed=True))
    agent_start = await agent.expect(p.SessionStart)
    op_start = await op.expect(p.SessionStart)
    assert agent_start.ice_servers == op_start.ice_servers
    await agent.close()
    await op.close()
    return agent_start.ice_servers


class _Sink(asyncio.DatagramProtocol):
    pass


async def _allocate(url: str, server: p.IceServer, ssl_context: ssl.SSLContext | None) -> Any:
    """An allocation on ``url`` as aioice makes it for a relayed candidate; returns (transport, protocol)."""
    scheme, rest = url.split(":", 1)
    host, port_query = rest.split(":", 1)
    port = int(port_query.split("?")[0])
    transport = "tcp" if scheme == "turns" else "udp"
    return await aioice.turn.create_turn_endpoint(
        _Sink,
        server_addr=(host, port),
        username=server.username,
        password=server.credential,
        ssl=(ssl_context or True) if scheme == "turns" else None,
        transport=transport,
    )


async def test_relay_credentials_allocate_over_udp_and_tls(
    tmp_path: Path, coturn: RunningTurn, ca: TestCA
) -> None:
    (server,) = await _session_ice_servers(tmp_path, coturn, SECRET)
    assert server.username
    assert server.credential
    assert server.credential != SECRET
    expiry, session = server.username.split(":", 1)
    assert int(expiry) > 0
    assert session
    problems: list[TurnProblem] = []
    for url in server.urls:
        with turn_gathering(ssl_context=_client_context(ca.ca_file), on_problem=problems.append):
            transport, _ = await _allocate(url, server, None)
        try:
            relayed = transport.get_extra_info("sockname")
            assert relayed[0] == "127.0.0.1", (url, relayed)
            assert 40000 <= relayed[1] <= 40999, (url, relayed)
        finally:
            transport.close()
    assert problems == []


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with picture_display(320, 240, "moving") as name:
        yield name


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("wrong secret", TurnProblemKind.CREDENTIALS_REFUSED),
        ("untrusted certificate", TurnProblemKind.CERTIFICATE_UNTRUSTED),
    ],
)
async def test_turn_problems_reach_both_sides_of_a_session(
    tmp_path: Path, coturn: RunningTurn, ca: TestCA, display: str, fault: str, expected: TurnProblemKind
) -> None:
    """A whole session (agent core, operator client): each side names the TURN fault, then goes direct."""
    if fault == "wrong secret":
        ice = IceServerConfig(urls=coturn.plan.urls(), turn_rest_secret="not-" + SECRET)
        trust: ssl.SSLContext | None = _client_context(ca.ca_file)
    else:
        ice = IceServerConfig(urls=coturn.plan.urls()[1:], turn_rest_secret=SECRET)
        trust = _client_context(TestCA(tmp_path / "other").ca_file)
    async with running_relay(data_dir=tmp_path / "relay", ice_servers=(ice,)) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        customer = Customer(relay.url, display, ssl_context=trust, reconnect_delays_s=(0.5,))
        seen: list[OperatorEvent] = []
        operator = OperatorClient(relay.url, ssl_context=trust, on_event=seen.append)
        try:
            customer.start()
            await operator_view(operator, "hanako", PASSWORD, customer.wait_code)
            assert customer.session is not None
            for peer in (customer.session.peer, operator.peer):
                assert peer is not None
                kinds = {q.kind for q in peer.turn_problems}
                assert kinds == {expected}, peer.turn_problems
                assert all(q.url in ice.urls for q in peer.turn_problems)
            # ...and each side's UI is told (console: tests/ui/test_turn_trouble_shown.py).
            for events in (customer.events, seen):
                troubles = [e for e in events if isinstance(e, TurnTrouble)]
                assert troubles, events
                assert {k for t in troubles for k in t.misconfigured} == {expected.value}
        finally:
            await operator.close()
            await customer.stop()


@pytest.mark.parametrize("trust", ["system store", "another CA"])
async def test_untrusted_certificate_is_a_named_problem(
    tmp_path: Path, coturn: RunningTurn, trust: str
) -> None:
    (server,) = await _session_ice_servers(tmp_path, coturn, SECRET)
    tls_url = next(u for u in server.urls if u.startswith("turns:"))
    context = None if trust == "system store" else _client_context(TestCA(tmp_path / "other").ca_file)
    problems: list[TurnProblem] = []
    with turn_gathering(ssl_context=context, on_problem=problems.append), pytest.raises(ssl.SSLError):
        await _allocate(tls_url, server, None)
    assert [q.kind for q in problems] == [TurnProblemKind.CERTIFICATE_UNTRUSTED]
    assert problems[0].url == tls_url
    assert "certificate" in problems[0].detail


async def test_silent_server_is_a_named_problem(tmp_path: Path) -> None:
    """Nothing answers on the TURN port (a firewall drops UDP): gathering's end is reported as such."""
    silent = p.IceServer(urls=(f"turn:127.0.0.1:{_free_port(socket.SOCK_DGRAM)}?transport=udp",))
    peer = AgentPeer(ice_servers=(silent,), track=SolidTrack(), on_guidance=lambda _: None)
    try:
        await peer.create_offer()
    finally:
        await peer.close()
    kinds = {q.kind for q in peer.turn_problems}
    # Linux answers a closed UDP port with ICMP (unreachable); a firewall would drop it (no answer).
    assert kinds
    assert kinds <= {TurnProblemKind.UNREACHABLE, TurnProblemKind.NO_ANSWER}


@contextlib.asynccontextmanager
async def _turn_udp_client(
    port: int, server: p.IceServer
) -> AsyncIterator[aioice.turn.TurnClientUdpProtocol]:
    """An allocation on the local coturn at ``port`` with ``server``'s REST credentials."""
    loop = asyncio.get_running_loop()
    transport, inner = await loop.create_datagram_endpoint(
        lambda: aioice.turn.TurnClientUdpProtocol(
            ("127.0.0.1", port),
            username=server.username,
            password=server.credential,
            lifetime=600,
            channel_refresh_time=500,
        ),
        remote_addr=("127.0.0.1", port),
    )
    try:
        await inner.connect()
        yield inner
    finally:
        await inner.delete()
        transport.close()


@pytest.mark.parametrize("peer", [("127.0.0.1", 9), ("10.1.2.3", 9), ("192.168.1.1", 9), ("172.20.0.1", 9)])
async def test_coturn_refuses_to_relay_to_private_addresses(
    tmp_path: Path, coturn: RunningTurn, peer: tuple[str, int]
) -> None:
    (server,) = await _session_ice_servers(tmp_path, coturn, SECRET)
    async with _turn_udp_client(coturn.plan.port, server) as inner:
        with pytest.raises(aioice.stun.TransactionFailed) as refused:
            await inner.channel_bind(0x4000, peer)
        assert refused.value.response.error_code == 403
        request = aioice.stun.Message(
            message_method=aioice.stun.Method.CREATE_PERMISSION, message_class=aioice.stun.Class.REQUEST
        )
        request.attributes["XOR-PEER-ADDRESS"] = peer
        with pytest.raises(aioice.stun.TransactionFailed) as refused:
            await inner.request_with_retry(request)
        assert refused.value.response.error_code == 403


async def test_choose_turn_keeps_the_first_entry_that_allocates(
    tmp_path: Path, coturn: RunningTurn, ca: TestCA
) -> None:
    (server,) = await _session_ice_servers(tmp_path, coturn, SECRET)
    stun = p.IceServer(urls=(f"stun:127.0.0.1:{coturn.plan.port}",))
    problems: list[TurnProblem] = []
    chosen = await choose_turn(
        (stun, server), ssl_context=_client_context(ca.ca_file), on_problem=problems.append
    )
    assert chosen == (stun, dataclasses.replace(server, urls=(server.urls[0],)))
    assert problems == []  # the TLS probe, cancelled once UDP won, is no problem


async def test_choose_turn_falls_back_to_tls_when_udp_goes_unanswered(
    tmp_path: Path, coturn: RunningTurn, ca: TestCA
) -> None:
    """UDP that a firewall drops never answers: TLS wins after the grace period, and STUN is dropped."""
    (server,) = await _session_ice_servers(tmp_path, coturn, SECRET)
    _, tls_url = server.urls
    blackhole = _Blackhole()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: blackhole, local_addr=("127.0.0.1", 0))
    silent = f"turn:127.0.0.1:{transport.get_extra_info('sockname')[1]}?transport=udp"
    servers = (
        p.IceServer(urls=(f"stun:127.0.0.1:{coturn.plan.port}",)),
        dataclasses.replace(server, urls=(silent, tls_url)),
    )
    problems: list[TurnProblem] = []
    started = loop.time()
    try:
        chosen = await choose_turn(
            servers, ssl_context=_client_context(ca.ca_file), on_problem=problems.append, grace_s=1.0
        )
    finally:
        transport.close()
    assert 1.0 <= loop.time() - started < 2.0
    assert chosen == (dataclasses.replace(server, urls=(tls_url,)),)
    assert [(q.url, q.kind) for q in problems] == [(silent, TurnProblemKind.NO_ANSWER)]
    assert blackhole.received > 0


class _Blackhole(asyncio.DatagramProtocol):
    """A UDP port that takes packets and never answers, as behind a dropping firewall."""

    def __init__(self) -> None:
        self.received = 0

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received += 1
