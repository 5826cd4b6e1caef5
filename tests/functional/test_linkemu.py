"""testbed.linkemu through the real kernel: a namespace, TBF on ifb, NFQUEUE and the emulator.

UDP datagrams cross the namespace's loopback once each; the checks are on what the
link did to them (lost, held back, dropped in an outage, spread out by the rate).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed.linkemu.core import Outage
from testbed.linkemu.namespace import LinkNamespace, available
from testbed.linkemu.profiles import LinkProfile

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="network namespaces are Linux only")

# Sends `count` datagrams of `size` bytes every `gap` s; prints each one's send offset,
# and the arrival offsets of those that came.
_PROBE = """
import json, socket, sys, time
count, size, gap = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", 0))
b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22); b.settimeout(0.5)
t0 = time.monotonic(); got = {}
for i in range(count):
    a.sendto(i.to_bytes(4, "big") + b"x" * (size - 4), b.getsockname())
    if gap: time.sleep(gap)
try:
    while True:
        data = b.recv(size)  # before the clock: `d[k] = v` evaluates v first
        got[int.from_bytes(data[:4], "big")] = time.monotonic() - t0
except TimeoutError:
    pass
print(json.dumps(got))
"""


def _probe(ns: LinkNamespace, count: int, size: int, gap: float) -> dict[int, float]:
    out = subprocess.run(
        [*ns.exec_prefix, sys.executable, "-c", _PROBE, str(count), str(size), str(gap)],
        check=True,
        capture_output=True,
        text=True,
        timeout=20,
    ).stdout
    return {int(k): v for k, v in json.loads(out).items()}


def test_link_is_buildable_here() -> None:
    assert available() is None


def test_delay_loss_and_rate() -> None:
    link = LinkProfile(name="t", rtt=0.100, loss=0.2, rate_bps=2_000_000, buffer_bytes=500_000)
    with LinkNamespace(link, seed=3) as ns:
        got = _probe(ns, count=100, size=1200, gap=0)
    assert ns.counters["arrived"] >= 100
    assert 0 < ns.counters["lost"] < 40
    assert len(got) == 100 - ns.counters["lost"]
    assert min(got.values()) >= 0.050  # held for the one-way delay
    # 100 x 1200 B at 2 Mbit/s cannot all arrive at once: the TBF spreads them out.
    assert max(got.values()) - min(got.values()) > 0.2
    # Same delay for all: no reordering.
    order = sorted(got, key=got.__getitem__)
    assert order == sorted(order)


def test_outage_drops_its_window() -> None:
    link = LinkProfile(name="t", outages=(Outage(start=0.2, duration=0.3),))
    with LinkNamespace(link) as ns:
        got = _probe(ns, count=40, size=200, gap=0.02)  # 0.8 s of packets
    missing = sorted(set(range(40)) - set(got))
    assert ns.counters["dropped_in_outage"] == len(missing) > 5
    assert missing == list(range(missing[0], missing[-1] + 1))  # one contiguous window
    assert 0 in got
    assert 39 in got


def test_namespace_is_removed() -> None:
    with LinkNamespace(LinkProfile(name="t", rtt=0.01)) as ns:
        name = ns.name
        listed = subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, text=True).stdout
        assert name in listed
    listed = subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, text=True).stdout
    assert name not in listed
