"""Sessions ride out a lost relay: real relay, real Xvfb capture, real aiortc peers.

Each client reaches the relay through its own :class:`testbed.tcp_link.BreakableLink`,
so a test can take the signaling network down (connections cut, new ones refused) while
the media, which is peer to peer, keeps its own path. What is checked is behaviour: the
picture keeps arriving, both sides resume the same session, a restarted relay leaves the
live session running until someone ends it, and a wrong resume secret is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from agent.session import OperatorConnection, Reconnected, Reconnecting, RelayForgot
from client_core.signaling_client import SignalingSocket
from operator_console.client import OperatorClient, RelayConnection, SessionEnded, ViewingStarted
from protocol import (
    PROTOCOL_VERSION,
    Auth,
    Authenticated,
    EndReason,
    Error,
    ErrorCode,
    Resume,
)
from relay.server import RunningRelay, running_relay
from testbed.customer import Customer
from testbed.scene import SceneProcess
from testbed.tcp_link import BreakableLink
from testbed.xvfb import VirtualDisplay
from tests.functional.test_session import expect, wait_until

WIDTH, HEIGHT = 640, 360
PASSWORD = "correct horse battery"
FAST = (0.2, 0.5)
"""Reconnect delays: quick, so the tests spend their time on behaviour, not waiting."""


@pytest.fixture(scope="module")
def moving_display() -> Iterator[str]:
    """A private display whose picture changes all the time: every frame is fresh."""
    with (
        VirtualDisplay(screens=[(WIDTH, HEIGHT)]) as display,
        SceneProcess(display.name, "moving", geometry=(0, 0, WIDTH, HEIGHT)),
    ):
        yield display.name


@pytest.fixture
async def relay(moving_display: str) -> AsyncIterator[RunningRelay]:
    async with running_relay(resume_grace_s=30.0) as running:
        running.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        yield running


class Parties:
    """A customer and an operator in a live session, each behind its own breakable link."""

    def __init__(self, relay: RunningRelay, display: str) -> None:
        self.relay = relay
        self.display = display
        self.agent_link = BreakableLink(relay.port)
        self.operator_link = BreakableLink(relay.port)
        self.customer: Customer | None = None
        self.operator: OperatorClient | None = None
        self.operator_events: list[object] = []

    async def go_live(self) -> tuple[Customer, OperatorClient]:
        await self.agent_link.start()
        await self.operator_link.start()
        customer = self.customer = Customer(
            self.agent_link.url, display=self.display, reconnect_delays_s=FAST, send_system_info=False
        )
        operator = self.operator = OperatorClient(
            self.operator_link.url, on_event=self.operator_events.append, reconnect_delays_s=FAST
        )
        customer.start()
        await operator.login("hanako", PASSWORD)
        await operator.claim(await customer.wait_code())
        await expect(operator, ViewingStarted)
        await wait_until(lambda: operator.sink.frames_received >= 5)
        return customer, operator

    def signaling_down(self) -> None:
        self.agent_link.down()
        self.operator_link.down()

    def signaling_up(self) -> None:
        self.agent_link.up()
        self.operator_link.up()

    async def close(self) -> None:
        if self.operator is not None:
            await self.operator.close()
        if self.customer is not None:
            await self.customer.stop()
        await self.agent_link.close()
        await self.operator_link.close()


@pytest.fixture
async def parties(relay: RunningRelay, moving_display: str) -> AsyncIterator[Parties]:
    both = Parties(relay, moving_display)
    try:
        yield both
    finally:
        await both.close()


def relay_states(parties: Parties) -> list[str]:
    return [e.state for e in parties.operator_events if isinstance(e, RelayConnection)]


async def frames_keep_coming(operator: OperatorClient, count: int = 5) -> None:
    before = operator.sink.frames_received
    await wait_until(lambda: operator.sink.frames_received >= before + count, timeout=10)


async def test_both_sides_lose_the_relay_media_flows_and_the_session_resumes(parties: Parties) -> None:
    customer, operator = await parties.go_live()
    parties.signaling_down()
    # Both notice, and neither tears the peer connection down.
    await wait_until(lambda: "reconnecting" in relay_states(parties))
    await wait_until(lambda: any(isinstance(e, Reconnecting) for e in customer.events))
    await frames_keep_coming(operator)
    assert not any(isinstance(e, SessionEnded) for e in parties.operator_events)
    assert customer.task is not None
    assert not customer.task.done()
    await asyncio.sleep(1.5)  # a few refused attempts: the backoff keeps trying
    await frames_keep_coming(operator)
    parties.signaling_up()
    await wait_until(lambda: "resumed" in relay_states(parties))
    await wait_until(lambda: any(isinstance(e, Reconnected) for e in customer.events))
    assert parties.relay.state.registry.stats().sessions_active == 1
    await frames_keep_coming(operator)
    # The resumed signaling carries the end as before.
    await operator.end_session()
    await expect(operator, SessionEnded)
    ended = await customer.ended()
    assert (ended.reason, ended.by) == (EndReason.NORMAL, "operator")
    assert all(track.readyState == "ended" for track in customer.tracks)
    await wait_until(lambda: parties.relay.state.registry.stats().sessions_active == 0)


async def test_the_customer_hears_when_only_the_operator_is_away(parties: Parties) -> None:
    customer, operator = await parties.go_live()
    parties.operator_link.cut()  # new connections still get through: it resumes at once
    await wait_until(lambda: "resumed" in relay_states(parties))
    await frames_keep_coming(operator)
    assert customer.task is not None
    assert not customer.task.done()
    assert parties.relay.state.registry.stats().sessions_active == 1


async def test_a_restarted_relay_refuses_the_resume_and_the_live_session_goes_on(
    relay: RunningRelay, moving_display: str
) -> None:
    parties = Parties(relay, moving_display)
    try:
        customer, operator = await parties.go_live()
        parties.signaling_down()
        await wait_until(lambda: "reconnecting" in relay_states(parties))
        # The relay crashes and comes back with no memory of codes or sessions: the
        # links now lead to a fresh relay (the old one no longer hears these clients).
        async with running_relay() as restarted:
            restarted.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
            parties.agent_link.target_port = parties.operator_link.target_port = restarted.port
            parties.signaling_up()
            await wait_until(lambda: "forgotten" in relay_states(parties))
            await wait_until(lambda: any(isinstance(e, RelayForgot) for e in customer.events))
            # Nobody pressed anything: the picture still flows peer to peer.
            await frames_keep_coming(operator)
            assert customer.task is not None
            assert not customer.task.done()
            assert not any(isinstance(e, SessionEnded) for e in parties.operator_events)
            # The operator's end reaches the customer over the data channel.
            await operator.end_session()
            ended_here = await expect(operator, SessionEnded)
            assert isinstance(ended_here, SessionEnded)
            assert (ended_here.reason, ended_here.by) == (EndReason.NORMAL, "operator")
            ended = await customer.ended()
            assert (ended.reason, ended.by) == (EndReason.NORMAL, "operator")
            assert all(track.readyState == "ended" for track in customer.tracks)
            assert restarted.state.registry.stats().sessions_active == 0
    finally:
        await parties.close()


async def test_a_wrong_resume_secret_is_refused_and_audited(parties: Parties) -> None:
    customer, operator = await parties.go_live()
    assert operator.token is not None
    parties.operator_link.down()
    await wait_until(lambda: "reconnecting" in relay_states(parties))
    async with SignalingSocket(parties.relay.url, "/ws/operator") as intruder:
        await intruder.send(Auth(protocol_version=PROTOCOL_VERSION, token=operator.token))
        replies = intruder.messages()
        assert isinstance(await anext(replies), Authenticated)
        # The code was read out on the phone: it is no resume secret, nor is a guess.
        code = parties.relay.state.registry._store.pairings()[0].code
        for guess in (code, "A" * 43):
            await intruder.send(Resume(protocol_version=PROTOCOL_VERSION, resume_token=guess))
            error = await anext(replies)
            assert isinstance(error, Error)
            assert error.code is ErrorCode.UNKNOWN_RESUME_TOKEN
    assert parties.relay.state.registry.stats().sessions_active == 1
    # The customer heard that the operator was away, and not that it came back.
    assert OperatorConnection(False) in customer.events
    assert OperatorConnection(True) not in customer.events
    failed = parties.relay.audit_rows("resume_failed")
    assert [(r.operator, r.detail["why"]) for r in failed] == [("hanako", "unknown")] * 2
    assert code not in repr(failed)
    parties.operator_link.up()
    await wait_until(lambda: "resumed" in relay_states(parties))
    await frames_keep_coming(operator)
