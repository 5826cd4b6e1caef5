"""Three relay processes on one redis-server: pairing across nodes, races, lockouts, crashes.

Everything here is real: a redis-server started by the test (AOF, appendfsync
everysec), three ``madoguchi relay`` processes sharing it and one data directory,
and protocol-level clients on loopback. A node or Redis is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from relay.accounts import Accounts
from relay.audit import AuditLog
from relay.testing import ClosedError, SignalingClient
from testbed.redis import RunningRedis, running_redis
from testbed.relay_nodes import RelayNode, running_nodes

PASSWORD = "correct horse"
ADMIN_PASSWORD = "admin staple battery"
USERS = ("hanako", "taro", "jiro")
SETTINGS = {
    "tick_interval_s": 0.05,
    "allow_timeout_s": 10,
    "resume_grace_s": 10,
    "heartbeat_s": 5,
    "node_ttl_s": 1.5,
}


@pytest.fixture
def redis_server() -> Iterator[RunningRedis]:
    with running_redis() as server:
        yield server


@pytest.fixture
def nodes(tmp_path: Path, redis_server: RunningRedis) -> Iterator[list[RelayNode]]:
    data = tmp_path / "data"
    data.mkdir()
    accounts = Accounts(data / "accounts.sqlite3")
    for user in USERS:
        accounts.add(user, PASSWORD, f"{user} san", "ACME")
    accounts.add("boss", ADMIN_PASSWORD, "Boss", "admin", role="admin")
    with running_nodes(3, store=redis_server.url, data_dir=data, settings=SETTINGS) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def audit_rows(nodes: list[RelayNode], event: str) -> list[object]:
    log = AuditLog(nodes[0].log_path.parent / "audit.sqlite3")
    try:
        return list(log.rows(event=event))
    finally:
        log.close()


async def connect(http: aiohttp.ClientSession, node: RelayNode, role: p.Role) -> SignalingClient:
    return SignalingClient(await http.ws_connect(node.ws_url(role)), 5.0)


async def operator(http: aiohttp.ClientSession, node: RelayNode, user: str = "hanako") -> SignalingClient:
    async with http.post(f"{node.url}/api/login", json={"username": user, "password": PASSWORD}) as r:
        body = await r.json()
        assert r.status == 200, body
    client = await connect(http, node, "operator")
    await client.send(p.Auth(protocol_version=p.PROTOCOL_VERSION, token=body["token"]))
    await client.expect(p.Authenticated)
    return client


async def agent(http: aiohttp.ClientSession, node: RelayNode) -> tuple[SignalingClient, p.Registered]:
    client = await connect(http, node, "agent")
    registered = await client.register()
    assert isinstance(registered, p.Registered), registered
    return client, registered


async def expect(client: SignalingClient, kind: type[p.SignalingMessage]) -> p.SignalingMessage:
    """The next message of ``kind``, skipping peer status changes (they depend on timing)."""
    while True:
        message = await client.recv()
        if not isinstance(message, p.PeerStatus):
            assert isinstance(message, kind), f"expected {kind.type}, got {message!r}"
            return message


async def start_session(
    agent_client: SignalingClient, code: str, op: SignalingClient
) -> tuple[p.SessionStart, p.SessionStart]:
    await op.send(p.Claim(code=code))
    await op.expect(p.ClaimPending)
    await agent_client.expect(p.OperatorRequest)
    await agent_client.send(p.Decision(allowed=True))
    return await agent_client.expect(p.SessionStart), await op.expect(p.SessionStart)


async def exchange(agent_client: SignalingClient, op: SignalingClient, tag: str) -> None:
    await agent_client.send(p.Offer(sdp=f"v=0 offer {tag}"))
    assert await expect(op, p.Offer) == p.Offer(sdp=f"v=0 offer {tag}")
    await op.send(p.Answer(sdp=f"v=0 answer {tag}"))
    assert await expect(agent_client, p.Answer) == p.Answer(sdp=f"v=0 answer {tag}")


async def test_agent_on_one_node_pairs_with_an_operator_on_another(
    nodes: list[RelayNode], http: aiohttp.ClientSession
) -> None:
    customer, registered = await agent(http, nodes[0])
    op = await operator(http, nodes[1])
    started, op_started = await start_session(customer, registered.code, op)
    assert started.session_id == op_started.session_id
    assert op_started.resume_token
    await exchange(customer, op, "across nodes")
    await op.send(p.Bye(reason=p.EndReason.NORMAL))
    assert await customer.expect(p.Ended) == p.Ended(reason=p.EndReason.NORMAL, by="operator")
    assert (await customer.closed())[0] == 1000
    assert await op.expect(p.Ended) == p.Ended(reason=p.EndReason.NORMAL, by="operator")
    # the operator's node learnt the session is over: the socket claims again at once
    second, again = await agent(http, nodes[2])
    await op.send(p.Claim(code=again.code))
    await op.expect(p.ClaimPending)
    await second.expect(p.OperatorRequest)
    rows = audit_rows(nodes, "session_ended")
    assert len(rows) == 1, "one audit row for one end, whichever node saw it"


async def test_concurrent_claims_of_one_code_on_three_nodes_have_one_winner(
    nodes: list[RelayNode], http: aiohttp.ClientSession
) -> None:
    ops = [await operator(http, node, user) for node, user in zip(nodes, USERS, strict=True)]
    for _round in range(4):
        customer, registered = await agent(http, nodes[_round % 3])
        await asyncio.gather(*(op.send(p.Claim(code=registered.code)) for op in ops))
        answers = await asyncio.gather(*(op.recv() for op in ops))
        winners = [a for a in answers if isinstance(a, p.ClaimPending)]
        losers = [a for a in answers if isinstance(a, p.Error)]
        assert len(winners) == 1, answers
        assert {e.code for e in losers} == {p.ErrorCode.CODE_ALREADY_USED}, answers
        request = await customer.expect(p.OperatorRequest)
        winner = ops[answers.index(winners[0])]
        await customer.send(p.Decision(allowed=False))
        assert (await winner.expect(p.Ended)).reason is p.EndReason.DENIED
        assert request.operator.organisation == "ACME"
        await customer.close()
    assert len(audit_rows(nodes, "claim_succeeded")) == 4


async def test_the_lockout_holds_across_three_nodes(
    nodes: list[RelayNode], http: aiohttp.ClientSession
) -> None:
    """Guesses racing on three nodes: the operator gets 5 codes looked up per window, no more."""
    sockets = [await operator(http, node) for node in nodes for _ in range(2)]
    wrong = [f"{n:04d}" for n in range(9000, 9012)]
    await asyncio.gather(*(s.send(p.Claim(code=code)) for s, code in zip(sockets * 2, wrong, strict=True)))
    answers: list[p.ErrorCode] = []
    for s in sockets:  # one answer per claim...
        for _ in range(2):
            answers.append((await s.expect(p.Error)).code)

    async def extra(s: SignalingClient) -> p.ErrorCode | None:
        try:  # ...and, to whoever made the 5th wrong guess, that claiming is now locked
            return (await asyncio.wait_for(s.expect(p.Error), 0.3)).code
        except TimeoutError:
            return None

    extras = [code for code in await asyncio.gather(*(extra(s) for s in sockets)) if code is not None]
    assert extras == [p.ErrorCode.LOCKED_OUT]
    assert answers.count(p.ErrorCode.UNKNOWN_CODE) == 5, answers
    assert len(audit_rows(nodes, "claim_failed")) == 5
    assert len(audit_rows(nodes, "lockout")) == 1
    _customer, registered = await agent(http, nodes[2])
    for s in sockets[::2]:  # a right code on any node: still locked out
        await s.send(p.Claim(code=registered.code))
        assert (await s.expect(p.Error)).code is p.ErrorCode.LOCKED_OUT


async def test_a_node_killed_mid_session_and_both_clients_resume_elsewhere(
    nodes: list[RelayNode], http: aiohttp.ClientSession
) -> None:
    customer, registered = await agent(http, nodes[0])
    op = await operator(http, nodes[0])
    _, op_started = await start_session(customer, registered.code, op)
    await exchange(customer, op, "before")
    nodes[0].kill()
    for client in (customer, op):
        with pytest.raises((ClosedError, aiohttp.ClientError, ConnectionError)):
            await client.recv()
    new_customer = await connect(http, nodes[1], "agent")
    await new_customer.send(
        p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=registered.resume_token)
    )
    await new_customer.expect(p.Resumed)
    new_op = await operator(http, nodes[2])
    assert op_started.resume_token is not None
    await new_op.send(p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=op_started.resume_token))
    await expect(new_op, p.Resumed)
    await exchange(new_customer, new_op, "after")
    # the dead node's liveness key lapses; the survivors find nothing left to take over
    await asyncio.sleep(SETTINGS["node_ttl_s"] * 2.5)
    await exchange(new_customer, new_op, "later")
    assert len(audit_rows(nodes, "agent_resumed")) == 1
    assert len(audit_rows(nodes, "operator_resumed")) == 1
    assert audit_rows(nodes, "session_ended") == []


async def test_a_node_stopped_for_a_rolling_restart_hands_its_clients_over(
    nodes: list[RelayNode], http: aiohttp.ClientSession
) -> None:
    waiting, waiting_code = await agent(http, nodes[0])
    customer, registered = await agent(http, nodes[0])
    op = await operator(http, nodes[0])
    _, op_started = await start_session(customer, registered.code, op)
    await asyncio.to_thread(nodes[0].stop)
    for client in (waiting, customer, op):  # closed as if dropped: no ended, no error
        with pytest.raises(ClosedError) as closed:
            await expect(client, p.Ended)
        assert closed.value.code == 1001
        await client.close()
    back = await connect(http, nodes[1], "agent")
    await back.send(p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=waiting_code.resume_token))
    assert (await back.expect(p.Registered)).code == waiting_code.code, "the customer keeps the number"
    new_customer = await connect(http, nodes[1], "agent")
    await new_customer.send(
        p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=registered.resume_token)
    )
    await expect(new_customer, p.Resumed)
    new_op = await operator(http, nodes[2])
    assert op_started.resume_token is not None
    await new_op.send(p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=op_started.resume_token))
    await expect(new_op, p.Resumed)
    await exchange(new_customer, new_op, "after the restart")
    assert audit_rows(nodes, "session_ended") == []
    for client in (back, new_customer, new_op):
        await client.close()


async def test_a_node_killed_with_a_waiting_code_starts_the_grace_once(
    nodes: list[RelayNode], http: aiohttp.ClientSession
) -> None:
    customer, registered = await agent(http, nodes[0])
    op = await operator(http, nodes[1])
    nodes[0].kill()
    await asyncio.sleep(SETTINGS["node_ttl_s"] * 2.5)  # found dead by the two survivors
    await op.send(p.Claim(code=registered.code))
    error = await op.expect(p.Error)
    assert error.code is p.ErrorCode.PEER_GONE, "the customer's connection counts as dropped: grace runs"
    back = await connect(http, nodes[2], "agent")
    await back.send(p.Resume(protocol_version=p.PROTOCOL_VERSION, resume_token=registered.resume_token))
    assert (await back.expect(p.Registered)).code == registered.code
    await op.send(p.Claim(code=registered.code))
    await op.expect(p.ClaimPending)
    del customer


async def test_redis_down_fails_closed_keeps_sessions_and_lockouts_survive(
    nodes: list[RelayNode], redis_server: RunningRedis, http: aiohttp.ClientSession
) -> None:
    customer, registered = await agent(http, nodes[0])
    op = await operator(http, nodes[1], "taro")
    await start_session(customer, registered.code, op)
    locked = await operator(http, nodes[2])
    for n in range(5):
        await locked.send(p.Claim(code=f"{8000 + n}"))
        assert (await locked.expect(p.Error)).code is p.ErrorCode.UNKNOWN_CODE
    assert (await locked.expect(p.Error)).code is p.ErrorCode.LOCKED_OUT
    await asyncio.sleep(1.2)  # appendfsync everysec: on disk within a second
    redis_server.kill()
    # new registrations fail closed, at once and clearly
    started = time.monotonic()
    refused = await connect(http, nodes[1], "agent")
    error = await refused.register()
    assert isinstance(error, p.Error), error
    assert error.code is p.ErrorCode.UNAVAILABLE
    assert error.retry_after_s is not None
    assert error.fatal
    assert (await refused.closed())[0] == 1013
    login = {"username": "jiro", "password": PASSWORD}
    async with http.post(f"{nodes[0].url}/api/login", json=login) as r:  # logins fail closed too
        assert r.status == 503
        assert (await r.json())["error"] == "unavailable"
    await locked.send(p.Claim(code=registered.code))  # so do claims, as clearly
    assert (await locked.expect(p.Error)).code is p.ErrorCode.UNAVAILABLE
    assert time.monotonic() - started < 3
    # the live session's sockets stay open (its media is peer to peer)
    await asyncio.sleep(0.5)
    assert not customer.ws.closed
    assert not op.ws.closed
    await asyncio.to_thread(redis_server.start)
    deadline = time.monotonic() + 5
    while True:  # recovers without a restart (the circuit breaker retries after ~1 s)
        probe = await connect(http, nodes[1], "agent")
        answer = await probe.register()
        await probe.close()
        if isinstance(answer, p.Registered):
            break
        assert time.monotonic() < deadline, answer
        await asyncio.sleep(0.3)
    await exchange(customer, op, "after the outage")
    again, fresh = await agent(http, nodes[0])
    await locked.send(p.Claim(code=fresh.code))
    assert (await locked.expect(p.Error)).code is p.ErrorCode.LOCKED_OUT, "the lockout survived the crash"
    await again.close()


async def test_the_admin_overview_shows_capacity_per_node(nodes: list[RelayNode]) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        customer, registered = await agent(http, nodes[1])
        op = await operator(http, nodes[2])
        await op.send(p.Claim(code=registered.code))
        await op.expect(p.ClaimPending)
        async with http.get(f"{nodes[0].url}/admin/login") as page:
            match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert match is not None
        form = {"csrf": match.group(1), "username": "boss", "password": ADMIN_PASSWORD}
        async with http.post(f"{nodes[0].url}/admin/login", data=form) as reply:
            assert reply.status == 200
        deadline = time.monotonic() + 5
        while True:  # the heartbeats carry each node's connection count
            async with http.get(f"{nodes[0].url}/admin") as page:
                html = await page.text()
            rows = re.findall(
                r'<tr data-node="(\w+)"><td class="code">\w+</td><td class="num">(\d+)</td>'
                r'<td class="num">(\d+)</td><td class="num">(\d+)</td></tr>',
                html,
            )
            connections = sum(int(r[1]) for r in rows)
            if len(rows) == 3 and connections >= 2:
                break
            assert time.monotonic() < deadline, html
            await asyncio.sleep(0.2)
        # the claim holds one place on the customer's node and one on the operator's
        assert sorted(int(r[2]) for r in rows) == [0, 1, 1]
        assert sum(int(r[3]) for r in rows) == 0
        await customer.close()
