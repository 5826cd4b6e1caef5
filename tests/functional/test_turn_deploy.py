"""The deployment guide's coturn configuration, run as written by Debian's coturn.

docs/deploy/turnserver.conf is the file operations.md tells an administrator to
install. Here only its addresses, ports, certificate paths and secret are changed,
each by an exact line (so the guide cannot drift from what is tested); coturn must
start without a configuration error, accept the relay's per-session credentials over
UDP and TLS, and refuse to relay toward a private address.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import aioice.stun
import aioice.turn
import pytest

from testbed.certs import TestCA
from testbed.turn import RunningTurn, TurnPlan, running_turnserver
from tests.functional.test_turn import _allocate, _client_context, _session_ice_servers, _turn_udp_client

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "turnserver.conf"
SECRET = secrets.token_urlsafe(24)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def guide_coturn(ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTurn]:
    certificate = ca.issue("127.0.0.1")
    plan = TurnPlan(
        listen_ip="127.0.0.1",
        secret=SECRET,
        port=_free_port(),
        tls_port=_free_port(),
        certificate=certificate,
    )
    text = GUIDE.read_text()
    for old, new in [
        ("listening-ip=198.51.100.7\n", "listening-ip=127.0.0.1\n"),
        ("relay-ip=198.51.100.7\n", "relay-ip=127.0.0.1\n"),
        ("listening-port=3478\n", f"listening-port={plan.port}\n"),
        ("tls-listening-port=443\n", f"tls-listening-port={plan.tls_port}\n"),
        ("cert=/etc/turn/fullchain.pem\n", f"cert={certificate.cert}\n"),
        ("pkey=/etc/turn/privkey.pem\n", f"pkey={certificate.key}\n"),
        ("static-auth-secret=SAME-AS-THE-RELAYS-turn_rest_secret\n", f"static-auth-secret={SECRET}\n"),
    ]:
        assert old in text, f"docs/deploy/turnserver.conf no longer has {old!r}"
        text = text.replace(old, new)
    config = tmp_path_factory.mktemp("coturn") / "turnserver.conf"
    config.write_text(text)
    with running_turnserver(plan, config_file=config) as turn:
        yield turn


def test_the_guides_configuration_loads_without_complaint(guide_coturn: RunningTurn) -> None:
    log = guide_coturn.log()
    assert "Bad configuration" not in log, log
    assert "ERROR" not in log, log


async def test_relay_credentials_allocate_over_udp_and_tls(
    tmp_path: Path, guide_coturn: RunningTurn, ca: TestCA
) -> None:
    (server,) = await _session_ice_servers(tmp_path, guide_coturn, SECRET)
    for url in server.urls:
        context = _client_context(ca.ca_file) if url.startswith("turns:") else None
        transport, _ = await _allocate(url, server, context)
        transport.close()


async def test_no_relaying_toward_a_private_address(tmp_path: Path, guide_coturn: RunningTurn) -> None:
    (server,) = await _session_ice_servers(tmp_path, guide_coturn, SECRET)
    async with _turn_udp_client(guide_coturn.plan.port, server) as inner:
        with pytest.raises(aioice.stun.TransactionFailed) as refused:
            await inner.channel_bind(0x4000, ("10.1.2.3", 9))
        assert refused.value.response.error_code == 403
