"""Whole sessions across NATs and a firewall: the network lab (namespaces, veth, iptables), real coturn.

Needs root, ``ip``, ``iptables``, ``turnserver`` and ``tinyproxy`` (scripts/apt-packages.txt);
CI runs as root. A missing tool fails the test (testbed.turn.ToolMissing), it never skips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from testbed.lab_session import run_lab_session
from testbed.netlab import CASES, RELAY_IP, LabCase
from testbed.world import picture_display

logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with picture_display(640, 360, "moving") as name:
        yield name


LIMIT_S: dict[LabCase, float] = {
    "lan": 2.0,
    "cone-nat": 2.0,
    "symmetric-nat": 2.0,
    "tcp443-only": 6.0,
    "proxy": 6.0,
}
"""Time from the customer's Allow to the operator's first decoded frame (issue 16's targets)."""


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_session_crosses_the_lab(case: LabCase, display: str) -> None:
    result = run_lab_session(case, display)
    logger.warning(
        "lab %s: first frame %.2f s, customer %s, operator %s",
        case,
        result.first_frame_s,
        result.customer_pair,
        result.operator_pair,
    )
    assert result.frames > 0
    customer, operator = result.customer_pair, result.operator_pair
    assert customer is not None
    assert operator is not None
    types = {customer.local_type, customer.remote_type}
    if case == "lan":
        assert types == {"host"}, result
    elif case == "cone-nat":
        assert "relay" not in types, result  # straight through the NAT, found with STUN
    elif case == "symmetric-nat":
        assert "relay" in types, result  # no direct path exists between two symmetric NATs
        for pair in (customer, operator):
            assert pair.relay_protocol in (None, "udp"), result
    else:
        assert (customer.local_type, customer.relay_protocol) == ("relay", "tls"), result
    if case == "proxy":
        # The relay is reachable only through the proxy: the signaling went through it.
        assert result.proxy_connects
        assert set(result.proxy_connects) == {f"{RELAY_IP}:443"}, result.proxy_connects
    else:
        assert result.proxy_connects == ()
    assert result.first_frame_s <= LIMIT_S[case], result
