"""Several ``madoguchi relay`` processes sharing one store, as a multi-node deployment runs.

Each node is its own process (``python -m madoguchi relay``) on a free port, so a
test can kill one with SIGKILL as a crash would. They share the data directory
(the accounts and the audit trail: SQLite handles several processes on one host;
production uses PostgreSQL) and the store (``store = "redis://..."``)::

    with running_redis() as redis, running_nodes(3, store=redis.url, data_dir=tmp) as nodes:
        nodes[0].ws_url("agent"), nodes[1].url ...
        nodes[0].kill()
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from protocol import Role

from .processes import stop_process

__all__ = ["RelayNode", "running_nodes"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class RelayNode:
    """One relay process; ``url`` is ``http://127.0.0.1:PORT``."""

    index: int
    url: str
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def ws_url(self, role: Role) -> str:
        return self.url.replace("http", "ws", 1) + f"/ws/{role}"

    def kill(self) -> None:
        """SIGKILL: no goodbye to its clients, no cleanup in the store."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
            logger.info("relay node %d: running -> killed", self.index)

    def stop(self) -> None:
        """SIGTERM, as systemd stops it (a rolling restart)."""
        if self.process.poll() is None:
            stop_process(self.process, timeout=10)
            logger.info("relay node %d: running -> stopped", self.index)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _read_url(process: subprocess.Popen[str], deadline: float) -> str | None:
    stdout: IO[str] | None = process.stdout
    assert stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stdout], [], [], 0.1)
        if ready:
            line = stdout.readline()
            if line.startswith("madoguchi relay listening on "):
                return line.rsplit(" ", 1)[1].strip()
            if not line:
                return None
    return None


@contextlib.contextmanager
def running_nodes(
    count: int,
    *,
    store: str,
    data_dir: Path,
    settings: Mapping[str, Any] | None = None,
    timeout_s: float = 20.0,
) -> Iterator[list[RelayNode]]:
    """Start ``count`` relay nodes on one store; ``settings`` are config keys (top level or
    ``[limits]``), passed as ``MADOGUCHI_RELAY_*`` variables. All are stopped on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_RELAY_")}
    values: dict[str, Any] = {"port": 0, "data_dir": data_dir, "store": store, **(settings or {})}
    env.update({f"MADOGUCHI_RELAY_{k.upper()}": str(v) for k, v in values.items()})
    started: list[tuple[subprocess.Popen[str], Path]] = []
    nodes: list[RelayNode] = []
    try:
        for i in range(count):
            log_path = data_dir / f"node{i}.log"
            with log_path.open("w") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "madoguchi", "-v", "relay"],
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    env=env,
                )
            started.append((process, log_path))
        deadline = time.monotonic() + timeout_s
        for i, (process, log_path) in enumerate(started):
            url = _read_url(process, deadline)
            if url is None:
                raise RuntimeError(
                    f"relay node {i} did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            nodes.append(RelayNode(i, url, process, log_path))
        logger.info("relay nodes: none -> %d running on %s", count, store)
        yield nodes
    finally:
        for process, _ in started:
            if process.poll() is None:
                stop_process(process, timeout=10)
            if process.stdout is not None:
                process.stdout.close()
