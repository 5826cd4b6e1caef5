"""A long network outage ends the session on both sides, with the reason, and capture stops.

Everything (relay, Xvfb, capture, both peers) runs in a network namespace whose link
goes down completely (testbed.outage_lab): media, ICE consent and both websockets are
lost at once. The clients' give-up time (and, in the lab, ICE consent) is 10 s here
instead of 60 s, so the test stays short; the behaviour is the same as a 120 s outage
against the default 60 s (docs/performance.md, "Outages").
"""

from __future__ import annotations

import sys

import pytest

from testbed.linkemu.namespace import available
from testbed.outage_lab import run_outage

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="network namespaces are Linux only")


def test_the_lab_can_run_here() -> None:
    assert available() is None


def test_an_outage_longer_than_the_give_up_ends_both_sides_with_the_reason() -> None:
    figures = run_outage(20.0, before_s=2.0, after_s=1.0, connection_lost_s=10.0)
    assert not figures["survived"]
    agent, operator = figures["agent_end"], figures["operator_end"]
    assert agent is not None
    assert operator is not None
    assert (agent["reason"], agent["by"]) == ("connection_lost", "relay")
    assert (operator["reason"], operator["by"]) == ("connection_lost", "relay")
    # Each side decided on its own, while the link was still down; the customer's
    # capture stopped with it.
    assert agent["after_outage_start_s"] < 20.0
    assert operator["after_outage_start_s"] < 20.0
    assert figures["agent_capture_stopped"]
