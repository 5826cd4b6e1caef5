"""The signaling websocket and the console's login through a real HTTP CONNECT proxy.

Debian's tinyproxy (testbed.proxy) with Basic authentication stands in front of an
https relay on loopback; the clients are given the proxy explicitly (automatic
settings never proxy this machine). The proxy's own log proves the tunnel was used.
"""

from __future__ import annotations

import secrets
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

import protocol as p
from client_core.signaling_client import RelayUnreachable, SignalingSocket
from operator_console.client import LoginFailed, OperatorClient, fetch_token
from relay.server import running_relay
from testbed.certs import TestCA
from testbed.proxy import ProxyPlan, RunningProxy, running_tinyproxy
from tests.functional.relay_session import PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


RELAY_PORT = _free_port()
PROXY_PASSWORD = secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def proxy() -> Iterator[RunningProxy]:
    plan = ProxyPlan(
        listen_ip="127.0.0.1", port=_free_port(), password=PROXY_PASSWORD, connect_ports=(RELAY_PORT,)
    )
    with running_tinyproxy(plan) as running:
        yield running


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


async def test_agent_and_console_through_the_proxy(tmp_path: Path, proxy: RunningProxy, ca: TestCA) -> None:
    cert = ca.issue("127.0.0.1")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert.cert, cert.key)
    client = ssl.create_default_context(cafile=str(ca.ca_file))
    async with running_relay(ssl_context=server, port=RELAY_PORT, data_dir=tmp_path) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        before = len(proxy.connects())
        agent = SignalingSocket(relay.url, "/ws/agent", ssl_context=client, proxy=proxy.plan.url())
        await agent.connect()
        await agent.send(
            p.Register(protocol_version=p.PROTOCOL_VERSION, client_version="t", consent_accepted=True)
        )
        messages = agent.messages()
        registered = await anext(messages)
        assert isinstance(registered, p.Registered)

        operator = OperatorClient(relay.url, ssl_context=client, proxy=proxy.plan.url())
        identity = await operator.login("hanako", PASSWORD)  # POST /api/login and the websocket
        assert identity.display_name == "佐藤 花子"
        await operator.claim(registered.code)
        request = await anext(messages)
        assert isinstance(request, p.OperatorRequest)
        await operator.close()
        await agent.close()
        # The agent's tunnel, and the operator's (its login and websocket may share one).
        tunnels = proxy.connects()[before:]
        assert len(tunnels) >= 2
        assert set(tunnels) == {f"127.0.0.1:{RELAY_PORT}"}


async def test_a_wrong_proxy_password_is_named(tmp_path: Path, proxy: RunningProxy, ca: TestCA) -> None:
    cert = ca.issue("127.0.0.1")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert.cert, cert.key)
    client = ssl.create_default_context(cafile=str(ca.ca_file))
    wrong = ProxyPlan(listen_ip="127.0.0.1", port=proxy.plan.port, password="wrong-password").url()
    async with running_relay(ssl_context=server, port=RELAY_PORT, data_dir=tmp_path) as relay:
        agent = SignalingSocket(relay.url, "/ws/agent", ssl_context=client, proxy=wrong)
        with pytest.raises(RelayUnreachable) as refused:
            await agent.connect()
        assert "the proxy asks for a user name and password" in str(refused.value)
        assert "wrong-password" not in str(refused.value)
        assert "lab:***@127.0.0.1" in str(refused.value)
        with pytest.raises(LoginFailed) as failed:
            await fetch_token(relay.url, "hanako", PASSWORD, ssl_context=client, proxy=wrong)
        assert failed.value.kind == "proxy"  # the console says so (not "cannot reach the relay")
