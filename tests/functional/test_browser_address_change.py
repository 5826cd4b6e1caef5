"""The browser's page through a changed network (Wi-Fi to tethering): the picture comes back.

A real Chromium shares the screen from its own network namespace
(testbed.browser_address_lab), to a real relay and the real console client in another.
Mid-session the customer's address is removed and another added: the page's relay
websocket is dead for good, and so, in the second case, is the old media path.
Behaviour only; how soon is a figure in docs/performance.md, "A changed network".
"""

from __future__ import annotations

import sys

import pytest

from testbed.browser_address_lab import run_browser_address_change

pytestmark = [
    pytest.mark.display,
    pytest.mark.skipif(sys.platform != "linux", reason="network namespaces are Linux only"),
]


def _went_on(figures: dict[str, object]) -> None:
    assert figures["frames_decoded_before_change"], figures
    # A picture painted after the change reached the operator ...
    assert figures["fresh_picture_s"] is not None, figures
    # ... in the same session: nobody ended it, the page still shares, and the screen was
    # not asked for again (one picker, at the start).
    assert figures["survived"], figures
    assert not figures["operator_ended"]
    assert figures["page_view"] == "sharing"
    assert figures["pickers"] == 1


def test_a_changed_address_keeps_the_picture_and_the_relay() -> None:
    """Chromium's UDP socket follows the new address (the console takes it as peer-reflexive),
    but its websocket died with the old one unnoticed: the relay cuts it, the console says
    ``relay_away`` on the data channel, and the page resumes on a fresh socket."""
    figures = run_browser_address_change(before_s=2.0, after_s=8.0, heartbeat_s=2.0)
    _went_on(figures)
    assert figures["page_socket_resumes"] >= 1, figures


def test_a_dead_old_path_brings_a_new_peer_in_the_same_session() -> None:
    """The old candidate pair cannot follow the move: the page offers a new peer (step 11)."""
    figures = run_browser_address_change(before_s=2.0, after_s=16.0, cut_old_path=True)
    _went_on(figures)
    assert figures["peer_restarts"] >= 1, figures
