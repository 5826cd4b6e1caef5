"""The deployment guide's nginx configuration, run by a real nginx in front of a real relay.

docs/deploy/nginx-relay.conf is used as written, bound to loopback ports and a test
CA's certificate (testbed.nginx). Through it: the agent's and the operator's
websockets and the console's login work, a client cannot choose the address the
relay sees (X-Forwarded-For is replaced), /metrics stays private and plain HTTP is
redirected to HTTPS.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

import protocol as p
from client_core.signaling_client import SignalingSocket
from operator_console.client import OperatorClient
from relay.server import running_relay
from testbed.certs import TestCA
from testbed.nginx import GUIDE_CONFIG, running_nginx, site_config
from tests.functional.relay_session import PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


RELAY_PORT, HTTPS_PORT, HTTP_PORT = _free_port(), _free_port(), _free_port()


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def nginx(ca: TestCA) -> Iterator[Path]:
    site = site_config(
        GUIDE_CONFIG.read_text(),
        https_port=HTTPS_PORT,
        http_port=HTTP_PORT,
        relay_port=RELAY_PORT,
        certificate=ca.issue("127.0.0.1"),
    )
    with running_nginx(site, wait_for=(HTTPS_PORT, HTTP_PORT)) as root:
        yield root


async def test_a_session_through_nginx(tmp_path: Path, nginx: Path, ca: TestCA) -> None:
    client = ssl.create_default_context(cafile=str(ca.ca_file))
    public = f"https://127.0.0.1:{HTTPS_PORT}"
    async with running_relay(port=RELAY_PORT, data_dir=tmp_path, trust_forwarded_for=True) as relay:
        relay.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
        agent = SignalingSocket(public, "/ws/agent", ssl_context=client)
        await agent.connect()
        await agent.send(
            p.Register(protocol_version=p.PROTOCOL_VERSION, client_version="t", consent_accepted=True)
        )
        messages = agent.messages()
        registered = await anext(messages)
        assert isinstance(registered, p.Registered)
        operator = OperatorClient(public, ssl_context=client)
        await operator.login("hanako", PASSWORD)
        await operator.claim(registered.code)
        assert isinstance(await anext(messages), p.OperatorRequest)
        await operator.close()
        await agent.close()

        async with aiohttp.ClientSession() as http:
            # A client's own X-Forwarded-For is replaced: the audit sees the real address.
            async with http.post(
                f"{public}/api/login",
                json={"username": "hanako", "password": "not the password"},
                headers={"X-Forwarded-For": "203.0.113.66"},
                ssl=client,
            ) as reply:
                assert reply.status == 401
            (failed,) = relay.audit_rows("login_failed")
            assert failed.ip == "127.0.0.1"
            async with http.get(f"{public}/metrics", ssl=client) as reply:
                assert reply.status == 403
            async with http.get(f"{public}/healthz", ssl=client) as reply:
                assert reply.status == 200
            async with http.get(f"http://127.0.0.1:{HTTP_PORT}/ws/agent", allow_redirects=False) as reply:
                assert reply.status == 301
                assert reply.headers["Location"] == "https://127.0.0.1/ws/agent"
