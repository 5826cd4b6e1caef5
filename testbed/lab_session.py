"""One whole session through the network lab: relay and coturn on the public side, the parties behind it.

:func:`run_lab_session` builds the lab of a case (:mod:`testbed.netlab`), starts a
hardened coturn (:mod:`testbed.turn`) and a relay on https (both with certificates
of a throw-away CA that the clients trust), then runs the real agent core (a
:class:`testbed.customer.Customer` capturing an X display) in the customer's
namespace and the real operator client in the operator's, each on a loop thread
living in its namespace. It returns the pair ICE chose at each end and the time
from the customer's Allow to the operator's first decoded frame.

In case ``proxy`` a real tinyproxy with Basic authentication (testbed.proxy) runs on
the customer's gateway; the agent is given it explicitly, as an administrator would
with ``--proxy`` or ``MADOGUCHI_PROXY``, and the proxy's log of CONNECTs is returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import ssl
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from client_core.rtc import SelectedPair, selected_pair
from relay.config import IceServerConfig
from relay.server import RunningRelay, running_relay
from testbed.certs import TestCA
from testbed.customer import Customer, TestbedError
from testbed.netlab import PROXY_PORT, RELAY_IP, TURN_IP, LabCase, NamespaceLoop, NetworkLab, plan_case
from testbed.operator import expect
from testbed.proxy import ProxyPlan, running_tinyproxy
from testbed.turn import TurnPlan, running_turnserver

if TYPE_CHECKING:
    from operator_console.client import OperatorClient

__all__ = ["LabResult", "ice_servers_for", "run_lab_session"]

_PASSWORD = "lab " + secrets.token_urlsafe(9)


@dataclasses.dataclass(frozen=True)
class LabResult:
    case: LabCase
    customer_pair: SelectedPair | None
    operator_pair: SelectedPair | None
    first_frame_s: float
    frames: int
    turn_log: str = dataclasses.field(repr=False, default="")
    proxy_connects: tuple[str, ...] = ()
    """Case ``proxy``: every ``host:port`` the customer's proxy opened a CONNECT tunnel to."""

    def ice(self) -> dict[str, str | None]:
        """The customer's view of the chosen pair (``madoguchi demo --network`` JSON)."""
        if self.customer_pair is None:
            return {"local_type": None, "remote_type": None, "protocol": None, "relay_protocol": None}
        return self.customer_pair.as_dict()


def ice_servers_for(turn: TurnPlan, secret: str) -> tuple[IceServerConfig, ...]:
    """The ordered list a deployment hands out: STUN, then TURN/UDP, then TURN over TLS on 443."""
    stun = IceServerConfig(urls=(f"stun:{turn.listen_ip}:{turn.port}",))
    return (stun, IceServerConfig(urls=turn.urls(), turn_rest_secret=secret, turn_rest_ttl_s=600))


def run_lab_session(
    case: LabCase, display: str, *, watch_s: float = 0.5, timeout_s: float = 30.0
) -> LabResult:
    """Run one session of ``case``; ``display``: the X display the customer shares."""
    plan = plan_case(case, prefix=f"m{os.getpid() % 100000}")
    secret = secrets.token_urlsafe(24)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="madoguchi-lab-")))
        ca = TestCA(tmp / "ca")
        stack.enter_context(NetworkLab(plan))
        turn_plan = TurnPlan(
            listen_ip=TURN_IP, secret=secret, port=3478, tls_port=443, certificate=ca.issue(TURN_IP)
        )
        turn = stack.enter_context(running_turnserver(turn_plan, netns=plan.public_ns))
        client_tls = ssl.create_default_context(cafile=str(ca.ca_file))
        relay_cert = ca.issue(RELAY_IP)
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(relay_cert.cert, relay_cert.key)

        loops = {}
        for name in (plan.public_ns, plan.customer.namespace, plan.operator.namespace):
            loops[name] = NamespaceLoop(name)
            stack.callback(loops[name].stop)
        pub, cust, op = (
            loops[plan.public_ns],
            loops[plan.customer.namespace],
            loops[plan.operator.namespace],
        )

        relay_stack = contextlib.AsyncExitStack()

        async def start_relay() -> RunningRelay:
            relay = await relay_stack.enter_async_context(
                running_relay(
                    ssl_context=server_tls,
                    host=RELAY_IP,
                    port=443,
                    data_dir=tmp / "relay",
                    ice_servers=ice_servers_for(turn_plan, secret),
                )
            )
            relay.add_operator("lab", _PASSWORD, "山田 太郎 (Lab)", "Madoguchi Support")
            return relay

        relay = pub.submit(start_relay()).result(15)
        stack.callback(lambda: pub.submit(relay_stack.aclose()).result(15))

        from operator_console.client import OperatorClient

        proxy = None
        if case == "proxy":
            gateway_ip = plan.customer.address.rsplit(".", 1)[0] + ".1"
            proxy_plan = ProxyPlan(
                listen_ip=gateway_ip,
                port=PROXY_PORT,
                password=secrets.token_urlsafe(12),
                allow=(f"{gateway_ip}/24",),
                connect_ports=(443,),
            )
            proxy = stack.enter_context(running_tinyproxy(proxy_plan, netns=plan.customer_gateway))
        customer = Customer(
            relay.url,
            display,
            ssl_context=client_tls,
            reconnect_delays_s=(0.5,),
            proxy=None if proxy is None else proxy.plan.url(),
        )
        cust.submit(_start(customer)).result(10)
        stack.callback(lambda: cust.submit(customer.stop()).result(15))
        code = cust.submit(customer.wait_code(timeout_s)).result(timeout_s + 1)

        operator = OperatorClient(relay.url, ssl_context=client_tls)
        stack.callback(lambda: op.submit(operator.close()).result(15))
        first_frame_at = op.submit(_view(operator, code, watch_s, timeout_s)).result(timeout_s * 2)
        if customer.allowed_at is None:
            raise TestbedError("the customer never allowed")
        customer_pair = cust.submit(_customer_pair(customer)).result(5)
        operator_pair, frames = op.submit(_end(operator)).result(15)
        return LabResult(
            case,
            customer_pair,
            operator_pair,
            round(first_frame_at - customer.allowed_at, 3),
            frames,
            turn.log(),
            () if proxy is None else tuple(proxy.connects()),
        )
    raise AssertionError("unreachable")  # pragma: no cover


async def _start(customer: Customer) -> None:
    customer.start()


async def _customer_pair(customer: Customer) -> SelectedPair | None:
    peer = customer.session.peer if customer.session is not None else None
    return selected_pair(peer.pc) if peer is not None else None


async def _view(operator: OperatorClient, code: str, watch_s: float, timeout_s: float) -> float:
    """Log in, claim ``code``, wait for the first decoded frame (its monotonic time), watch a little."""
    from operator_console.client import ClaimAccepted

    first: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def on_frame(*_: Any) -> None:
        if not first.done():
            first.set_result(time.monotonic())

    operator.sink.on_frame = on_frame
    await operator.login("lab", _PASSWORD)
    await operator.claim(code)
    await expect(operator, ClaimAccepted, 10, "the code was not accepted")
    try:
        first_at = await asyncio.wait_for(first, timeout_s)
    except TimeoutError:
        raise TestbedError("no frame was decoded: the peers found no path") from None
    await asyncio.sleep(watch_s)
    return first_at


async def _end(operator: OperatorClient) -> tuple[SelectedPair | None, int]:
    from operator_console.client import SessionEnded

    pair = selected_pair(operator.peer.pc) if operator.peer is not None else None
    frames = operator.sink.frames_received
    await operator.end_session()
    await expect(operator, SessionEnded, 10, "the session did not end")
    return pair, frames
