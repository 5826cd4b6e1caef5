"""``madoguchi bench --network PROFILE``: the same benchmark through an emulated link.

The whole benchmark (relay, Xvfb, scene, agent and operator) runs again inside a
network namespace built by :class:`testbed.linkemu.namespace.LinkNamespace`, so
every packet between them (media and signaling) crosses the link. This process
builds the namespace, runs ``madoguchi bench`` inside it (``ip netns exec``, with
``MADOGUCHI_BENCH_INSIDE_LINK`` set so the inner run does not nest), then adds the
link's description and the emulator's counters to the JSON, the sent rate as a
share of the link's rate, and issue 15's targets for the profile
(:mod:`benchmarks.network_targets`), which it prints in place of the LAN targets.
Method and limits: docs/performance.md, "Real networks".
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.network_targets import check_network_targets, render_network_targets, summary_counts

__all__ = ["INSIDE_ENV", "describe", "run_through_link"]

INSIDE_ENV = "MADOGUCHI_BENCH_INSIDE_LINK"


def describe(name: str) -> dict[str, Any]:
    from testbed.linkemu.profiles import profile

    p = profile(name)
    info = dataclasses.asdict(p)
    info["delay_one_way_s"] = p.delay
    info["limit_bytes"] = p.limit_bytes
    return info


def add_link_share(report: dict[str, Any], rate_bps: int | None) -> None:
    """Each pipeline's received rate as a share of the link's rate (both directions share it)."""
    for entry in report.get("scenarios", {}).values():
        for pipeline in ("baseline", "madoguchi"):
            figures = entry.get(pipeline)
            if not isinstance(figures, dict):
                continue
            kbps = figures.get("bitrate_kbps")
            figures["link_share"] = (
                round(kbps * 1000 / rate_bps, 2) if rate_bps and isinstance(kbps, int | float) else None
            )


def run_through_link(name: str, argv: list[str], json_path: Path | None) -> int:
    """Run ``madoguchi`` with ``argv`` (a ``bench`` command line) inside the link; 0 if it worked."""
    from testbed.linkemu.namespace import LinkNamespace, available
    from testbed.linkemu.profiles import profile

    why = available()
    if why is not None:
        print(f"madoguchi bench: --network needs the link emulator: {why}", file=sys.stderr)
        return 2
    link = profile(name)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "inner.json"
        inner = [*argv, "--json", str(out)]
        with LinkNamespace(link) as ns:
            code = subprocess.run(
                [*ns.exec_prefix, sys.executable, "-m", "madoguchi", *inner],
                check=False,
                env={**os.environ, INSIDE_ENV: name},
            ).returncode
        if code != 0 or not out.exists():
            return code or 1
        report = json.loads(out.read_text())
    report["network"] = {**describe(name), "emulator": ns.counters}
    add_link_share(report, link.rate_bps)
    rows = check_network_targets(report)
    report["network_targets"] = rows
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"link {name}: emulator {ns.counters}")
    # The run inside printed the figures; the LAN targets mean nothing through a link.
    print(f"\nissue 15's targets for {name} ({summary_counts(rows)}):\n{render_network_targets(rows)}")
    return 0
