"""The network lab: NATs, firewalls and a public side built from namespaces, veth pairs and iptables.

:func:`plan_case` is the sans-IO part: for a case name it returns a :class:`LabPlan`,
the exact ``ip``/``iptables``/``sysctl`` commands that build the lab and those that
remove it, plus where each party lives. :class:`NetworkLab` is the thin glue that
runs them (as root) and removes everything on exit, even after a failure.
:class:`NamespaceLoop` is an asyncio loop thread that lives inside one namespace:
every socket made on it (the relay's listener, aioice's candidates, aiohttp's
websocket) belongs to that namespace, so one process can hold the customer, the
operator and the relay on three different networks and time them on one clock.

The lab, for every case::

    public 203.0.113.0/24 (bridge in the "pub" namespace)
      203.0.113.1  relay (https, port 443)     203.0.113.3  coturn (3478 udp, 443 TLS)
      203.0.113.10 customer gateway  ----  10.10.1.0/24  customer (10.10.1.2) [operator on the LAN: .3]
      203.0.113.11 operator gateway  ----  10.10.2.0/24  operator (10.10.2.2)
      203.0.113.20 operator on the public side (no gateway)

Documentation addresses stand for the public Internet because coturn refuses to
relay toward private ranges (testbed/turn.py), as it must in production. Gateways:
``cone`` is MASQUERADE (Linux keeps the source port: one mapping per local port),
``symmetric`` is MASQUERADE ``--random-fully`` (a new port for each destination),
``tcp443`` is a cone NAT whose FORWARD chain passes only new TCP connections to
port 443 (and their replies), like a bank's egress firewall. ``proxy`` is stricter,
like a bank whose web traffic must go through its HTTP proxy: the LAN reaches the
Internet only through the proxy on the gateway (10.10.1.1:3128, run by
testbed.lab_session), plus TCP 443 to the TURN server's address alone, the one rule
docs/operations.md asks an administrator to add for the picture (aioice cannot take
TURN through a proxy). The relay at 203.0.113.1 is not reachable directly.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import os
import subprocess
from collections.abc import Iterator
from typing import Literal

from client_core.loop_thread import LoopThread
from testbed.turn import require_tool

__all__ = [
    "CASES",
    "Gateway",
    "LabPlan",
    "NamespaceLoop",
    "NetworkLab",
    "PROXY_PORT",
    "Party",
    "plan_case",
]

logger = logging.getLogger(__name__)

LabCase = Literal["lan", "cone-nat", "symmetric-nat", "tcp443-only", "proxy"]
CASES: tuple[LabCase, ...] = ("lan", "cone-nat", "symmetric-nat", "tcp443-only", "proxy")
GatewayMode = Literal["cone", "symmetric", "tcp443", "proxy"]

PUBLIC_PREFIX = 24
RELAY_IP = "203.0.113.1"
TURN_IP = "203.0.113.3"
_CUSTOMER_GW = "203.0.113.10"
_OPERATOR_GW = "203.0.113.11"
_OPERATOR_PUBLIC = "203.0.113.20"

Command = tuple[str, ...]

_CUSTOMER_GATEWAY: dict[LabCase, GatewayMode] = {
    "lan": "cone",
    "cone-nat": "cone",
    "symmetric-nat": "symmetric",
    "tcp443-only": "tcp443",
    "proxy": "proxy",
}
PROXY_PORT = 3128
"""The customer network's HTTP proxy listens on its gateway, ``10.10.1.1:3128`` (case ``proxy``)."""


@dataclasses.dataclass(frozen=True)
class Gateway:
    name: str
    """Its namespace's short name (``cgw``/``ogw``)."""
    mode: GatewayMode
    outside_ip: str
    lan_prefix: str
    """``10.10.N``: the LAN is ``10.10.N.0/24`` and the gateway is ``.1``."""


@dataclasses.dataclass(frozen=True)
class Party:
    namespace: str
    address: str


@dataclasses.dataclass(frozen=True)
class LabPlan:
    case: LabCase
    prefix: str
    """Every namespace and interface name of this lab starts with it (a few letters)."""
    public_ns: str
    customer: Party
    operator: Party
    setup: tuple[Command, ...]
    teardown: tuple[Command, ...]

    @property
    def customer_gateway(self) -> str:
        """The namespace of the customer's gateway (NAT, firewall, and the proxy in case ``proxy``)."""
        return f"{self.prefix}-cgw"

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c[3] for c in self.setup if c[:3] == ("ip", "netns", "add")))


def plan_case(case: LabCase, prefix: str = "mg") -> LabPlan:
    """The lab for ``case``: commands to build and remove it, and where the two parties live."""
    if case not in CASES:
        raise ValueError(f"unknown lab case {case!r}; one of {', '.join(CASES)}")
    if not (prefix.isalnum() and len(prefix) <= 6):
        raise ValueError("the prefix must be at most 6 letters or digits (interface names are short)")
    pub = f"{prefix}-pub"
    cmds: list[Command] = []
    namespaces: list[str] = []

    def ns(name: str) -> str:
        full = f"{prefix}-{name}"
        if full not in namespaces:
            namespaces.append(full)
            cmds.append(("ip", "netns", "add", full))
            cmds.append(("ip", "-n", full, "link", "set", "lo", "up"))
        return full

    ns("pub")
    br = f"{prefix}br"
    cmds += [
        ("ip", "-n", pub, "link", "add", br, "type", "bridge"),
        ("ip", "-n", pub, "link", "set", br, "up"),
        ("ip", "-n", pub, "addr", "add", f"{RELAY_IP}/{PUBLIC_PREFIX}", "dev", br),
        ("ip", "-n", pub, "addr", "add", f"{TURN_IP}/{PUBLIC_PREFIX}", "dev", br),
    ]

    def wire(a: str, a_if: str, b: str, b_if: str) -> None:
        cmds.append(("ip", "link", "add", a_if, "netns", a, "type", "veth", "peer", "name", b_if, "netns", b))
        cmds.append(("ip", "-n", a, "link", "set", a_if, "up"))
        cmds.append(("ip", "-n", b, "link", "set", b_if, "up"))

    def on_public(name: str, address: str) -> str:
        space = ns(name)
        wire(space, f"{prefix}{name}u", pub, f"{prefix}{name}p")
        cmds.append(("ip", "-n", pub, "link", "set", f"{prefix}{name}p", "master", br))
        cmds.append(
            ("ip", "-n", space, "addr", "add", f"{address}/{PUBLIC_PREFIX}", "dev", f"{prefix}{name}u")
        )
        return space

    def gateway(gw: Gateway) -> str:
        space = on_public(gw.name, gw.outside_ip)
        up = f"{prefix}{gw.name}u"
        lan = f"{prefix}{gw.name}l"
        cmds.extend(
            [
                ("ip", "-n", space, "link", "add", lan, "type", "bridge"),
                ("ip", "-n", space, "link", "set", lan, "up"),
                ("ip", "-n", space, "addr", "add", f"{gw.lan_prefix}.1/24", "dev", lan),
                ("ip", "netns", "exec", space, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"),
            ]
        )
        masquerade: Command = ("-j", "MASQUERADE") + (("--random-fully",) if gw.mode == "symmetric" else ())
        cmds.append(
            (
                "ip",
                "netns",
                "exec",
                space,
                "iptables",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-o",
                up,
                *masquerade,
            )
        )
        if gw.mode in ("tcp443", "proxy"):
            filt = ("ip", "netns", "exec", space, "iptables", "-A", "FORWARD")
            # Behind the proxy only the TURN server's address passes on 443, nothing else.
            to: Command = ("-d", f"{TURN_IP}/32") if gw.mode == "proxy" else ()
            cmds.extend(
                [
                    ("ip", "netns", "exec", space, "iptables", "-P", "FORWARD", "DROP"),
                    (*filt, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"),
                    (*filt, "-i", lan, "-o", up, *to, "-p", "tcp", "--dport", "443", "-j", "ACCEPT"),
                ]
            )
        return space

    def behind(gw: Gateway, gw_space: str, name: str, host: int) -> Party:
        space = ns(name)
        wire(space, f"{prefix}{name}e", gw_space, f"{prefix}{name}g")
        cmds.append(
            ("ip", "-n", gw_space, "link", "set", f"{prefix}{name}g", "master", f"{prefix}{gw.name}l")
        )
        address = f"{gw.lan_prefix}.{host}"
        cmds.append(("ip", "-n", space, "addr", "add", f"{address}/24", "dev", f"{prefix}{name}e"))
        cmds.append(("ip", "-n", space, "route", "add", "default", "via", f"{gw.lan_prefix}.1"))
        return Party(space, address)

    customer_gw = Gateway(
        "cgw",
        _CUSTOMER_GATEWAY[case],
        _CUSTOMER_GW,
        "10.10.1",
    )
    cgw = gateway(customer_gw)
    customer = behind(customer_gw, cgw, "cust", 2)
    if case == "lan":
        operator = behind(customer_gw, cgw, "op", 3)
    elif case == "symmetric-nat":
        operator_gw = Gateway("ogw", "symmetric", _OPERATOR_GW, "10.10.2")
        operator = behind(operator_gw, gateway(operator_gw), "op", 2)
    else:
        operator = Party(on_public("op", _OPERATOR_PUBLIC), _OPERATOR_PUBLIC)
    teardown = tuple(("ip", "netns", "delete", n) for n in reversed(namespaces))
    return LabPlan(case, prefix, pub, customer, operator, tuple(cmds), teardown)


class NetworkLab:
    """Builds a :class:`LabPlan` (root only) and removes it on exit."""

    def __init__(self, plan: LabPlan) -> None:
        self.plan = plan

    def __enter__(self) -> NetworkLab:
        for tool in ("ip", "iptables", "sysctl"):
            require_tool(tool)
        if getattr(os, "geteuid", lambda: -1)() != 0:  # Linux only, like the namespaces
            raise PermissionError("the network lab needs root (namespaces, iptables); CI runs as root")
        self._remove_leftovers()
        try:
            for command in self.plan.setup:
                _run(command)
        except BaseException:
            self._remove_leftovers()
            raise
        logger.info("lab %s up: %s", self.plan.case, ", ".join(self.plan.namespaces))
        return self

    def __exit__(self, *exc: object) -> None:
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        existing = set(
            subprocess.run(
                ["ip", "netns", "list"], check=False, capture_output=True, text=True
            ).stdout.split()
        )
        for command in self.plan.teardown:
            if command[-1] in existing:
                subprocess.run(command, capture_output=True, check=False)


def _run(command: Command) -> None:
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"lab: {' '.join(command)} failed: {done.stderr.strip()}")


_CLONE_NEWNET = 0x40000000


def enter_namespace(name: str) -> None:
    """Move the calling thread (only) into network namespace ``name`` (``ip netns add`` made it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
    finally:
        os.close(fd)


class NamespaceLoop(LoopThread):
    """A :class:`LoopThread` whose thread lives in network namespace ``namespace``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._setns_error: OSError | None = None
        super().__init__(f"lab-{namespace}")
        if self._setns_error is not None:
            raise self._setns_error

    def _main(self) -> None:
        try:
            enter_namespace(self.namespace)
        except OSError as exc:
            self._setns_error = exc
            self._ready.set()
            return
        super()._main()


@contextlib.contextmanager
def namespace_loops(*namespaces: str) -> Iterator[dict[str, NamespaceLoop]]:
    loops: dict[str, NamespaceLoop] = {}
    try:
        for name in namespaces:
            loops[name] = NamespaceLoop(name)
        yield loops
    finally:
        for loop in loops.values():
            loop.stop()
