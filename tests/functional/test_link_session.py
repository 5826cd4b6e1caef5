"""Real tuned peers through an emulated link with loss and a 4 s outage: after the outage a
fresh picture comes, nothing stale is replayed, and no garbled picture is ever shown.

Behaviour only: which pictures the operator's decoder produced (a stamp painted in each
picture says which one it is), never how fast.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed.linkemu.core import Outage
from testbed.linkemu.namespace import LinkNamespace
from testbed.linkemu.profiles import LinkProfile

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="network namespaces are Linux only")

OUTAGE = Outage(start=3.0, duration=4.0)
"""From the link's first packet; 4 s of a few hundred packets a second is more than the
sender's history (1 s, at least 1,024 packets) can repair."""


def test_outage_and_loss_fresh_picture_no_stale_replay() -> None:
    link = LinkProfile(name="t", rtt=0.040, loss=0.03, outages=(OUTAGE,))
    with LinkNamespace(link, seed=1) as ns:
        out = subprocess.run(
            [*ns.exec_prefix, sys.executable, "-m", "testbed.link_session", "--seconds", "12"],
            check=True,
            capture_output=True,
            text=True,
            timeout=90,
        ).stdout
    assert ns.counters["dropped_in_outage"] > 1024
    assert ns.counters["lost"] > 0
    report = json.loads(out.strip().splitlines()[-1])
    assert report["tuned"]
    sent: list[float] = report["sent_at"]
    shown: list[tuple[float, int]] = [(t, i) for t, i in report["shown"]]

    # Every picture shown is a whole, readable one, and never older than one shown before it.
    assert all(i >= 0 for _, i in shown), "a garbled picture was shown"
    assert report["decode_errors"] == 0
    indices = [i for _, i in shown]
    assert indices == sorted(set(indices)), "an older picture came after a newer one"

    # The outage is the longest freeze; the picture ending it was captured after the link
    # came back (it is not one held up since the outage began).
    gaps = [(shown[k + 1][0] - shown[k][0], k) for k in range(len(shown) - 1)]
    freeze, k = max(gaps)
    assert freeze > OUTAGE.duration - 1.0
    before, after = shown[k], shown[k + 1]
    assert sent[after[1]] - sent[before[1]] > OUTAGE.duration - 1.0
    # Pictures keep coming after it (5 s are left, room for a busy machine), and the chain
    # broken by the outage was mended by a keyframe.
    assert len(shown) - (k + 1) >= 10
    assert report["buffer"]["chain_breaks"] >= 1
    assert report["buffer"]["keyframes_released"] >= 2
    # No trickle of stale pictures: once fresh pictures flow again, each is recent when shown
    # (generous: far above this link's 20 ms one-way delay, far below the outage).
    assert all(t - sent[i] < 1.0 for t, i in shown[k + 1 :])
