"""``madoguchi sysinfo``: show exactly what the agent would send the operator.

Runs the same collector the agent runs after the customer allows a session. With
``--json`` it prints the ``sysinfo`` message itself (the SysInfoReport, after the
size cap), so a customer or an admin can check what leaves the machine.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scope",
        choices=("normal", "detailed"),
        default="detailed",
        help="detailed: every item of R19 (installed agent); normal: OS and browser only (R20)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON message the agent would send")
    parser.add_argument(
        "--lang", choices=("en", "ja"), default="en", help="language of the table labels (default: en)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time limit per item (they run in parallel); default: the agent's",
    )


def run(args: argparse.Namespace) -> int:
    import json
    import logging

    from protocol import to_jsonable

    from .collector import DEFAULT_TIMEOUT_S, collect, to_report
    from .display import render_table

    timeout = DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout
    if not 0 < timeout <= 60:
        print("madoguchi sysinfo: --timeout must be within (0, 60] seconds", file=sys.stderr)
        return 2
    info = collect(args.scope, timeout_per_item=timeout)
    logging.getLogger(__name__).info("collected in %.2f s", info.duration_s)
    report = to_report(info)
    if args.json:
        print(json.dumps(to_jsonable(report), ensure_ascii=False, indent=2))
    else:
        print(render_table(report.data, report.unavailable, args.lang))
        print(
            f"\n({args.scope} scope, {len(report.unavailable)} of {len(report.data)} unavailable, "
            f"{info.duration_s:.2f} s)"
        )
    return 0
