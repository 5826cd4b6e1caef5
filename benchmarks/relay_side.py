"""The relay of one ``benchmarks.relay_load`` run, in a process of its own.

``python -m benchmarks.relay_side --overrides JSON``

Starts a relay on 127.0.0.1 (free port, throw-away data directory) with the given
configuration overrides and one operator, ``bench``, whose password is the first line
on stdin; prints ``ready URL`` on stdout, then serves until stdin closes. Why a
separate process: its resident memory and CPU time are then the relay's alone, not
mixed with the thousands of client sockets the benchmark opens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "raise_fd_limit"]

logger = logging.getLogger(__name__)


def raise_fd_limit() -> int | None:
    """Raise this process's open-file limit to the hard limit; the new soft limit (None: no such limit)."""
    limit: int | None = None
    if sys.platform != "win32":  # Windows has no such limit
        import resource

        limit, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and limit < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            limit = hard
    return limit


async def _serve(overrides: dict[str, Any], password: str) -> None:
    from relay.config import load_config
    from relay.server import running_relay

    with tempfile.TemporaryDirectory(prefix="madoguchi-bench-relay-") as tmp:
        config = load_config(env={}, port=0, data_dir=Path(tmp), **overrides)
        async with running_relay(config) as relay:
            relay.add_operator("bench", password, "Bench", "Madoguchi")
            print(f"ready {relay.url}", flush=True)
            # Serve until the benchmark closes our stdin (or dies).
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay_side")
    parser.add_argument("--overrides", default="{}", help="relay config keys as a JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="relay_side %(levelname)s %(name)s: %(message)s")
    raise_fd_limit()
    password = sys.stdin.readline().strip()
    asyncio.run(_serve(json.loads(args.overrides), password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
