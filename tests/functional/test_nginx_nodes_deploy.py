"""The several-nodes nginx file of the operations guide, run by a real nginx in front of three relays.

docs/deploy/nginx-relay-nodes.conf is used as written, with only the listen ports, the
certificate paths and the nodes' addresses changed (each by an exact line, so the guide
cannot drift from what is tested). Through it: websockets are spread over every node
with no stickiness, and when a node is gone new connections land on the others.
The nodes here have no shared store (each pairs only its own sockets): what is checked
is nginx's part of the layout.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from pathlib import Path

import aiohttp

import protocol as p
from relay.server import RunningRelay, running_relay
from testbed.certs import TestCA
from testbed.nginx import running_nginx

NODES_CONFIG = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx-relay-nodes.conf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _site(https_port: int, http_port: int, node_ports: list[int], ca: TestCA) -> str:
    certificate = ca.issue("127.0.0.1")
    changes = [
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        (
            "ssl_certificate     /etc/letsencrypt/live/relay.example.com/fullchain.pem;",
            f"ssl_certificate     {certificate.cert};",
        ),
        (
            "ssl_certificate_key /etc/letsencrypt/live/relay.example.com/privkey.pem;",
            f"ssl_certificate_key {certificate.key};",
        ),
    ]
    for i, port in enumerate(node_ports):
        changes.append((f"server 10.0.0.1{i + 1}:8765 ", f"server 127.0.0.1:{port} "))
    text = NODES_CONFIG.read_text()
    for old, new in changes:
        assert old in text, f"the guide's nginx file no longer has {old!r}"
        text = text.replace(old, new)
    return text


async def _connections(http: aiohttp.ClientSession, relay: RunningRelay) -> int:
    async with http.get(f"{relay.url}/metrics") as reply:
        for line in (await reply.text()).splitlines():
            if line.startswith("madoguchi_connections "):
                return int(float(line.split()[1]))
    raise AssertionError("no madoguchi_connections")


async def _register(
    http: aiohttp.ClientSession, public: str, client: ssl.SSLContext
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{public.replace('https', 'wss')}/ws/agent", ssl=client)
    message = p.Register(protocol_version=p.PROTOCOL_VERSION, client_version="t", consent_accepted=True)
    await ws.send_str(p.encode(message))
    reply = p.decode_signaling((await ws.receive(timeout=10)).data)
    assert isinstance(reply, p.Registered), reply
    return ws


async def test_websockets_spread_over_the_nodes_and_skip_a_node_that_is_gone(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    https_port, http_port = _free_port(), _free_port()
    node_ports = [_free_port() for _ in range(3)]
    public = f"https://127.0.0.1:{https_port}"
    client = ssl.create_default_context(cafile=str(ca.ca_file))
    site = _site(https_port, http_port, node_ports, ca)

    def node(i: int) -> contextlib.AbstractAsyncContextManager[RunningRelay]:
        return running_relay(port=node_ports[i], data_dir=tmp_path / f"node-{i}", trust_forwarded_for=True)

    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(node(0))
        third = await stack.enter_async_context(node(2))
        stack.enter_context(running_nginx(site, wait_for=(https_port, http_port)))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        async with node(1) as second:
            held = [await _register(http, public, client) for _ in range(6)]
            # Round robin, no stickiness: every node holds some of one client's sockets.
            counts = [await _connections(http, n) for n in (first, second, third)]
            assert counts == [2, 2, 2]
        # Node 1 is gone (its port refuses connections): every new socket lands on another node.
        held += [await _register(http, public, client) for _ in range(6)]
        assert await _connections(http, first) + await _connections(http, third) == 10
        for ws in held:
            await ws.close()
