"""Record how a burst of RTP-sized datagrams arrives through an emulated link (a trace for tests).

``sudo python -m testbed.linkemu.record_train PROFILE OUT.json`` builds the profile's
namespace, sends ``--packets`` datagrams of ``--size`` bytes back to back (as the agent
sends its first keyframe while it probes the path), then, 0.1 s later, the same again,
and writes every arrival as ``[sequence, arrival ms, size]`` (read by a thread blocked
in ``recv``, so the time is when the datagram came, as for aiortc's receiver).
``tests/unit/test_path_probe.py`` replays the traces in ``tests/data/path_probe/``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from testbed.linkemu.namespace import LinkNamespace
from testbed.linkemu.profiles import profile

_SEND = """
import json, socket, sys, threading, time
count, size = int(sys.argv[1]), int(sys.argv[2])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", 0))
b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22); b.settimeout(2.0)
got = []
def receive():
    try:
        while True:
            data = b.recv(65536)
            got.append([int.from_bytes(data[:4], "big"), int(time.monotonic() * 1000), len(data)])
    except TimeoutError:
        pass
thread = threading.Thread(target=receive); thread.start()
for burst in range(2):
    for i in range(count):
        a.sendto((burst * count + i).to_bytes(4, "big") + b"x" * (size - 4), b.getsockname())
    time.sleep(0.1)
thread.join()
start = got[0][1] if got else 0
print(json.dumps([[s, t - start, n] for s, t, n in got]))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile")
    parser.add_argument("out", type=Path)
    parser.add_argument("--packets", type=int, default=35)
    parser.add_argument("--size", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    link = profile(args.profile)
    with LinkNamespace(link, seed=args.seed) as ns:
        out = subprocess.run(
            [*ns.exec_prefix, sys.executable, "-c", _SEND, str(args.packets), str(args.size)],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    trace = {
        "profile": link.name,
        "rate_bps": link.rate_bps,
        "packets_per_burst": args.packets,
        "arrivals": json.loads(out),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(trace) + "\n")
    print(f"{len(trace['arrivals'])} arrivals -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
