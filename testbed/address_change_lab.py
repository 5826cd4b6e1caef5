"""One session through a changed network: the customer's address goes, another comes.

``python -m testbed.address_change_lab`` (also ``python -m testbed.outage_lab
--change-address``) builds two network namespaces joined by a veth pair: the relay
and the operator live in one (``10.99.0.1``), the customer's agent in the other,
first at ``10.99.0.2``. The customer captures a private Xvfb display that shows the
stamped ``moving`` scene. After ``--before`` seconds of a live session the
customer's address is removed and ``10.99.0.3`` added with its default route, as
when a laptop leaves the Wi-Fi for the phone's tethering: every socket bound to the
old address (the ICE candidates, the relay websocket) is dead for good. Then, as JSON:

* ``fresh_picture_s``: from the removal of the old address to the first decoded
  picture painted after it (the scene logs when it painted each stamp; one clock);
* ``peer_restarts``: the new peer connections the agent offered (docs/protocol.md
  step 11), ``agent_relay_reconnects``: how often its relay websocket came back;
* ``survived``: the session still live on both sides and at the relay with no user
  action, and ``consent_requests``: how often the customer was asked to Allow (1:
  the restart needed no new consent).

The link itself is a plain veth (no delay, loss or rate): the figure is what the
restart costs, not the path. Needs root and Linux (namespaces); see
docs/performance.md, "Outages".
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["AddressChangePlan", "main", "plan_address_change", "run_address_change"]

logger = logging.getLogger(__name__)

SERVER_IP = "10.99.0.1"
OLD_IP = "10.99.0.2"
NEW_IP = "10.99.0.3"
_PREFIX_LEN = 24
_WIDTH, _HEIGHT = 1280, 720
_PASSWORD = "address lab password"  # noqa: S105 (a throwaway account in a private relay)

Command = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class AddressChangePlan:
    """The namespaces and the exact ``ip`` commands of the lab (sans-IO: nothing runs here)."""

    server_ns: str
    customer_ns: str
    setup: tuple[Command, ...]
    change: tuple[Command, ...]
    """Remove the old address (its routes go with it), add the new one and its default route."""
    teardown: tuple[Command, ...]


def plan_address_change(prefix: str) -> AddressChangePlan:
    """The lab's commands; ``prefix`` (at most 6 letters or digits) makes its names unique."""
    if not (prefix.isalnum() and len(prefix) <= 6):
        raise ValueError("the prefix must be at most 6 letters or digits (interface names are short)")
    srv, cust = f"{prefix}-acs", f"{prefix}-acc"
    srv_if, cust_if = f"{prefix}acs", f"{prefix}acc"
    setup: list[Command] = []
    for ns in (srv, cust):
        setup += [("ip", "netns", "add", ns), ("ip", "-n", ns, "link", "set", "lo", "up")]
    setup += [
        ("ip", "link", "add", srv_if, "netns", srv, "type", "veth", "peer", "name", cust_if, "netns", cust),
        ("ip", "-n", srv, "addr", "add", f"{SERVER_IP}/{_PREFIX_LEN}", "dev", srv_if),
        ("ip", "-n", srv, "link", "set", srv_if, "up"),
        ("ip", "-n", cust, "addr", "add", f"{OLD_IP}/{_PREFIX_LEN}", "dev", cust_if),
        ("ip", "-n", cust, "link", "set", cust_if, "up"),
        ("ip", "-n", cust, "route", "add", "default", "via", SERVER_IP),
    ]
    change: tuple[Command, ...] = (
        ("ip", "-n", cust, "addr", "del", f"{OLD_IP}/{_PREFIX_LEN}", "dev", cust_if),
        ("ip", "-n", cust, "addr", "add", f"{NEW_IP}/{_PREFIX_LEN}", "dev", cust_if),
        ("ip", "-n", cust, "route", "replace", "default", "via", SERVER_IP),
    )
    teardown = (("ip", "netns", "delete", cust), ("ip", "netns", "delete", srv))
    return AddressChangePlan(srv, cust, tuple(setup), change, teardown)


def _run(command: Command) -> None:
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"address lab: {' '.join(command)} failed: {done.stderr.strip()}")


@contextlib.contextmanager
def _namespaces(plan: AddressChangePlan) -> Any:
    def remove() -> None:
        listed = subprocess.run(["ip", "netns", "list"], check=False, capture_output=True, text=True)
        existing = set(listed.stdout.split())
        for command in plan.teardown:
            if command[-1] in existing:
                subprocess.run(command, capture_output=True, check=False)

    if getattr(os, "geteuid", lambda: -1)() != 0:
        raise PermissionError("the address-change lab needs root (network namespaces)")
    remove()
    try:
        for command in plan.setup:
            _run(command)
        yield plan
    finally:
        remove()


def run_address_change(
    *, before_s: float = 4.0, after_s: float = 6.0, size: tuple[int, int] = (_WIDTH, _HEIGHT)
) -> dict[str, Any]:
    """Build the lab, run one session through the address change, return its figures."""
    from agent.session import OperatorAsking, Reconnected
    from operator_console.client import OperatorClient, SessionEnded, ViewingStarted
    from relay.server import RunningRelay, running_relay
    from testbed.customer import Customer
    from testbed.netlab import NamespaceLoop
    from testbed.operator import expect
    from testbed.scene import SceneProcess, read_painted, stamp_position
    from testbed.stamp import DecodedStamps
    from testbed.xvfb import VirtualDisplay

    width, height = size
    stamp_x, stamp_y = stamp_position(width, height)
    on_frame = DecodedStamps(width, stamp_x, stamp_y, full_size_only=True)  # the lab's veth never scales
    decoded = on_frame.decoded

    plan = plan_address_change(f"a{os.getpid() % 100000}")
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="madoguchi-addr-")))
        display = stack.enter_context(VirtualDisplay(screens=[size]))
        painted_log = tmp / "painted.txt"
        stack.enter_context(
            SceneProcess(
                display.name, "moving", fps=30, geometry=(0, 0, width, height), stamp_file=str(painted_log)
            )
        )
        stack.enter_context(_namespaces(plan))
        srv, cust = NamespaceLoop(plan.server_ns), NamespaceLoop(plan.customer_ns)
        stack.callback(srv.stop)
        stack.callback(cust.stop)
        relay_stack = contextlib.AsyncExitStack()

        async def start_relay() -> RunningRelay:
            relay = await relay_stack.enter_async_context(
                running_relay(host=SERVER_IP, port=0, data_dir=tmp / "relay")
            )
            relay.add_operator("lab", _PASSWORD, "Address Lab", "Madoguchi")
            return relay

        relay = srv.submit(start_relay()).result(15)
        stack.callback(lambda: srv.submit(relay_stack.aclose()).result(15))
        customer = Customer(relay.url, display.name, send_system_info=False)
        operator_seen: list[tuple[object, float]] = []
        operator = OperatorClient(relay.url, on_event=lambda e: operator_seen.append((e, time.monotonic())))
        operator.sink.on_frame = on_frame

        async def start_customer() -> str:
            customer.start()
            return await customer.wait_code()

        async def view(code: str) -> None:
            await operator.login("lab", _PASSWORD)
            await operator.claim(code)
            await expect(operator, ViewingStarted, 30, "the picture never started")

        code = cust.submit(start_customer()).result(30)
        stack.callback(lambda: cust.submit(customer.stop()).result(30))
        stack.callback(lambda: srv.submit(operator.close()).result(30))
        srv.submit(view(code)).result(40)
        time.sleep(before_s)
        _run(plan.change[0])
        changed_at = time.monotonic()  # the old address is gone: everything bound to it is dead
        for command in plan.change[1:]:
            _run(command)
        logger.info("customer address %s -> %s", OLD_IP, NEW_IP)
        time.sleep(after_s)

        async def agent_state() -> tuple[bool, int]:
            assert customer.session is not None
            assert customer.task is not None
            return customer.task.done(), customer.session.peer_restarts

        agent_ended, restarts = cust.submit(agent_state()).result(10)
        operator_ended = any(isinstance(e, SessionEnded) for e, _ in operator_seen)
        live = not agent_ended and not operator_ended and relay.state.registry.stats().sessions_active == 1
        events = list(customer.events)
        painted = read_painted(painted_log.read_text())

    after = [(value, at) for value, at in decoded if at >= changed_at]
    fresh = next((at for value, at in after if painted.get(value, 0.0) >= changed_at), None)
    return {
        "survived": live,
        "fresh_picture_s": None if fresh is None else round(fresh - changed_at, 2),
        "peer_restarts": restarts,
        "consent_requests": sum(isinstance(e, OperatorAsking) for e in events),
        "agent_relay_reconnects": sum(isinstance(e, Reconnected) for e in events),
        "agent_ended": agent_ended,
        "operator_ended": operator_ended,
        "frames_decoded_before_change": sum(at < changed_at for _, at in decoded),
        "frames_decoded_after_change": len(after),
        "address": {"old": OLD_IP, "new": NEW_IP},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m testbed.address_change_lab", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--before", type=float, default=4.0, help="seconds of live session before the change")
    parser.add_argument("--after", type=float, default=6.0, help="seconds watched after the change")
    parser.add_argument("--size", default=f"{_WIDTH}x{_HEIGHT}", help="screen size, e.g. 1920x1080")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if os.environ.get("MADOGUCHI_LAB_LOG"):
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)8.0f %(name)s %(message)s")
    width, _, height = args.size.partition("x")
    figures = run_address_change(before_s=args.before, after_s=args.after, size=(int(width), int(height)))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
