"""Whole sessions across NATs and a firewall: the network lab (namespaces, veth, iptables), real coturn.

Needs root, ``ip``, ``iptables`` and ``turnserver`` (scripts/apt-packages.txt); CI runs as
root. A missing tool fails the test (testbed.turn.ToolMissing), it never skips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from testbed.lab_session import run_lab_session
from testbed.netlab import CASES, LabCase
from testbed.world import picture_display

logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with picture_display(640, 360, "moving") as name:
        yield name


EXPECT: dict[LabCase, tuple[float, set[str | None]]] = {
    # case: (time to first frame at most, the customer's relay protocol)
    "lan": (2.0, {None}),
    "cone-nat": (2.0, {None}),
    "symmetric-nat": (2.0, {"udp"}),
    "tcp443-only": (6.0, {"tls"}),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c != "tcp443-only"])
def test_session_crosses_the_lab(case: LabCase, display: str) -> None:
    result = run_lab_session(case, display)
    logger.warning(
        "lab %s: first frame %.2f s, customer %s, operator %s",
        case,
        result.first_frame_s,
        result.customer_pair,
        result.operator_pair,
    )
    limit, relay_protocols = EXPECT[case]
    assert result.frames > 0
    assert result.customer_pair is not None
    assert result.operator_pair is not None
    assert result.customer_pair.relay_protocol in relay_protocols, result
    if case == "lan":
        assert (result.customer_pair.local_type, result.customer_pair.remote_type) == ("host", "host")
    if case in ("lan", "cone-nat"):
        assert "relay" not in (result.customer_pair.local_type, result.customer_pair.remote_type), result
    assert result.first_frame_s <= limit, result
