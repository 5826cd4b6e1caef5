"""WebRTC plumbing shared by the agent and the operator console.

* ``rtc_configuration`` turns the relay's ICE server list into aiortc's
  configuration. An empty list stays empty: aiortc would otherwise fall back to a
  public STUN server, and we never contact third parties unasked.
* Loopback ICE. aioice leaves 127.0.0.1 out of its host candidates, so two peers
  on one machine with no other interface (CI sandboxes, a single-machine demo)
  could never connect. A peer whose relay is on a loopback address (every party
  is on this machine) gathers inside ``ice_host_addresses("loopback")``, which
  makes host-candidate gathering offer 127.0.0.1 only. The choice is a context
  variable, so it holds for that peer's gathering alone (and the tasks it starts):
  other peers in the process, a stock one in ``madoguchi bench`` say, gather as
  aioice ships. It works through a wrapper around ``aioice.ice.get_host_addresses``
  (the one function aioice uses to list local addresses; verified on aioice
  0.9-0.13), installed once when this module is imported, which does exactly what
  aioice does outside such a block.
* ``apply_remote_candidate`` adds a trickled candidate from an ``ice`` message.
* ``selected_pair`` says which candidate pair ICE chose (host, srflx, prflx or relay,
  and for a relay whether this side reaches its TURN server over UDP, TCP or TLS).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import ipaddress
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

import aioice.ice
import aioice.turn
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.sdp import candidate_from_sdp

from protocol import Ice, IceServer

__all__ = [
    "IceAddressMode",
    "apply_remote_candidate",
    "follow_connection_state",
    "host_addresses",
    "ice_host_addresses",
    "is_loopback_url",
    "rtc_configuration",
    "selected_pair",
    "SelectedPair",
]

logger = logging.getLogger(__name__)

IceAddressMode = Literal["auto", "loopback"]

_mode: contextvars.ContextVar[IceAddressMode] = contextvars.ContextVar("ice_host_addresses", default="auto")


def _aioice_host_addresses() -> Callable[[bool, bool], list[str]]:
    current: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses
    return getattr(current, "__wrapped__", current)


_original_get_host_addresses = _aioice_host_addresses()


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _mode.get() == "loopback":
        return ["127.0.0.1"] if use_ipv4 else ["::1"]
    return _original_get_host_addresses(use_ipv4, use_ipv6)


_get_host_addresses.__wrapped__ = _original_get_host_addresses  # type: ignore[attr-defined]
aioice.ice.get_host_addresses = _get_host_addresses


@contextlib.contextmanager
def ice_host_addresses(mode: IceAddressMode) -> Iterator[None]:
    """Within this block (and tasks started in it), ICE gathers host candidates of ``mode``."""
    token = _mode.set(mode)
    try:
        yield
    finally:
        _mode.reset(token)


def host_addresses(mode: IceAddressMode) -> frozenset[str]:
    """The local addresses a peer gathering in ``mode`` would offer now (IPv4 and IPv6).

    Read again while sharing, it tells when the network changed under a peer (the
    address its candidates were gathered on is gone: client_core.peer_restart)."""
    with ice_host_addresses(mode):
        return frozenset(_get_host_addresses(True, True))


def is_loopback_url(url: str) -> bool:
    """True if the URL's host is a loopback address (or a name resolving only to one)."""
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0])).is_loopback for info in infos)


def rtc_configuration(ice_servers: tuple[IceServer, ...]) -> RTCConfiguration:
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential) for s in ice_servers
        ]
    )


async def apply_remote_candidate(pc: RTCPeerConnection, message: Ice) -> None:
    """Add a trickled remote candidate; an empty candidate means end-of-candidates."""
    if not message.candidate:
        await pc.addIceCandidate(None)
        return
    line = message.candidate.removeprefix("candidate:")
    candidate = candidate_from_sdp(line)
    candidate.sdpMid = message.sdp_mid
    candidate.sdpMLineIndex = message.sdp_mline_index
    await pc.addIceCandidate(candidate)


def follow_connection_state(
    pc: RTCPeerConnection, connected: asyncio.Event, on_state: Callable[[str], None] | None
) -> None:
    """Log every connection-state change, set ``connected`` once up, and tell ``on_state``."""

    @pc.on("connectionstatechange")
    def _state_changed() -> None:
        state = pc.connectionState
        logger.info("peer connection -> %s", state)
        if state == "connected":
            connected.set()
        if on_state is not None:
            on_state(state)


@dataclasses.dataclass(frozen=True)
class SelectedPair:
    """The candidate pair ICE nominated, seen from this side."""

    local_type: str
    """``host``, ``srflx``, ``prflx`` or ``relay``."""
    remote_type: str
    protocol: str
    """The pair's transport (aioice's candidates are always ``udp``)."""
    relay_protocol: str | None
    """For a local relay candidate: how this side reaches its TURN server, ``udp``, ``tcp`` or ``tls``."""

    def as_dict(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


def _ice_connection(pc: RTCPeerConnection) -> Any:
    transports = []
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    transports += [t.receiver.transport for t in pc.getTransceivers()]
    transports += [t.sender.transport for t in pc.getTransceivers()]
    for dtls in transports:
        if dtls is not None:
            return getattr(dtls.transport, "_connection", None)
    return None


def selected_pair(pc: RTCPeerConnection) -> SelectedPair | None:
    """The nominated pair of ``pc``'s (bundled) transport, or None before ICE has chosen one."""
    connection = _ice_connection(pc)
    nominated = getattr(connection, "_nominated", {}) if connection is not None else {}
    pair = nominated.get(1)
    if pair is None:
        return None
    local, remote = pair.local_candidate, pair.remote_candidate
    relay_protocol: str | None = None
    if local.type == "relay":
        transport = getattr(pair.protocol, "transport", None)
        inner = getattr(transport, "_TurnTransport__inner_protocol", None)
        if isinstance(inner, aioice.turn.TurnClientTcpProtocol):
            tls = inner.transport is not None and inner.transport.get_extra_info("ssl_object") is not None
            relay_protocol = "tls" if tls else "tcp"
        elif inner is not None:
            relay_protocol = "udp"
    return SelectedPair(str(local.type), str(remote.type), str(local.transport).lower(), relay_protocol)
