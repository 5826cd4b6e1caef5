"""A node killed under a live session: real agent and console, real aiortc media, three relays.

The customer's and the operator's signaling each go through a
:class:`testbed.tcp_link.BreakableLink` standing in for the load balancer. The node
both are on is killed with SIGKILL; the "load balancer" then sends new connections to
the surviving nodes. The picture, peer to peer, never stops; both programs resume the
same session on other nodes, and the operator's end still reaches the customer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.session import Reconnected
from operator_console.client import OperatorClient, RelayConnection, SessionEnded, ViewingStarted
from protocol import EndReason
from relay.accounts import Accounts
from relay.audit import AuditLog
from testbed.customer import Customer
from testbed.redis import running_redis
from testbed.relay_nodes import RelayNode, running_nodes
from testbed.scene import SceneProcess
from testbed.tcp_link import BreakableLink
from testbed.xvfb import VirtualDisplay
from tests.functional.test_session import expect, wait_until

WIDTH, HEIGHT = 640, 360
PASSWORD = "correct horse battery"
FAST = (0.2, 0.5)


@pytest.fixture(scope="module")
def moving_display() -> Iterator[str]:
    with (
        VirtualDisplay(screens=[(WIDTH, HEIGHT)]) as display,
        SceneProcess(display.name, "moving", geometry=(0, 0, WIDTH, HEIGHT)),
    ):
        yield display.name


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[RelayNode]]:
    data = tmp_path / "data"
    data.mkdir()
    Accounts(data / "accounts.sqlite3").add("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    settings = {"resume_grace_s": 30, "node_ttl_s": 1.5, "tick_interval_s": 0.1}
    with (
        running_redis() as redis_server,
        running_nodes(3, store=redis_server.url, data_dir=data, settings=settings) as running,
    ):
        yield running


async def frames_keep_coming(operator: OperatorClient, count: int = 5) -> None:
    before = operator.sink.frames_received
    await wait_until(lambda: operator.sink.frames_received >= before + count, timeout=10)


async def test_a_node_killed_under_a_live_session(nodes: list[RelayNode], moving_display: str) -> None:
    agent_link, operator_link = BreakableLink(nodes[0].port), BreakableLink(nodes[0].port)
    await agent_link.start()
    await operator_link.start()
    events: list[object] = []
    customer = Customer(
        agent_link.url, display=moving_display, reconnect_delays_s=FAST, send_system_info=False
    )
    operator = OperatorClient(operator_link.url, on_event=events.append, reconnect_delays_s=FAST)
    try:
        customer.start()
        await operator.login("hanako", PASSWORD)
        await operator.claim(await customer.wait_code())
        await expect(operator, ViewingStarted)
        await wait_until(lambda: operator.sink.frames_received >= 5)
        # the node dies; the load balancer sends new connections elsewhere
        agent_link.target_port = nodes[1].port
        operator_link.target_port = nodes[2].port
        nodes[0].kill()
        await frames_keep_coming(operator)
        await wait_until(lambda: any(isinstance(e, Reconnected) for e in customer.events))
        await wait_until(lambda: "resumed" in [e.state for e in events if isinstance(e, RelayConnection)])
        await frames_keep_coming(operator)
        assert not any(isinstance(e, SessionEnded) for e in events)
        # the resumed signaling, now across two nodes, carries the end
        await operator.end_session()
        await expect(operator, SessionEnded)
        ended = await customer.ended()
        assert (ended.reason, ended.by) == (EndReason.NORMAL, "operator")
        log = AuditLog(nodes[1].log_path.parent / "audit.sqlite3")
        try:
            assert [r.event for r in log.rows(event="session_ended")] == ["session_ended"]
            assert len(log.rows(event="agent_resumed")) == 1
            assert len(log.rows(event="operator_resumed")) == 1
        finally:
            log.close()
    finally:
        await operator.close()
        await customer.stop()
        await agent_link.close()
        await operator_link.close()
