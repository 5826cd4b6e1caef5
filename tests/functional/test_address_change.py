"""The customer's network changes mid-session (Wi-Fi to tethering): the picture comes back.

The customer's agent lives in its own network namespace (testbed.address_change_lab);
mid-session its address is removed and another added, so the ICE candidates and the
relay websocket bound to the old one are dead for good. aiortc cannot restart ICE: the
agent offers a new peer connection in the same session (docs/protocol.md step 11).
Behaviour only; how soon is a figure in docs/performance.md, "Outages".
"""

from __future__ import annotations

import sys

import pytest

from testbed.address_change_lab import NEW_IP, OLD_IP, plan_address_change, run_address_change

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="network namespaces are Linux only")


def test_the_plan_moves_the_customer_from_the_old_address_to_the_new() -> None:
    plan = plan_address_change("t1")
    removed, added, route = plan.change
    assert removed[-4:] == ("del", f"{OLD_IP}/24", "dev", "t1acc")
    assert added[-4:] == ("add", f"{NEW_IP}/24", "dev", "t1acc")
    assert "default" in route
    assert all(command[2] == plan.customer_ns for command in plan.change)


def test_a_changed_address_brings_a_fresh_picture_in_the_same_session() -> None:
    figures = run_address_change(before_s=2.0, after_s=4.0)
    assert figures["frames_decoded_before_change"] > 0
    # A picture painted after the change reached the operator ...
    assert figures["fresh_picture_s"] is not None, figures
    # ... through a new peer connection, in the same session: nobody ended it, and the
    # customer was not asked to Allow again.
    assert figures["peer_restarts"] >= 1
    assert figures["survived"], figures
    assert not figures["agent_ended"]
    assert not figures["operator_ended"]
    assert figures["consent_requests"] == 1
