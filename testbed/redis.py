"""A throw-away redis-server for tests: a free port, a temporary directory, AOF on.

Started as production should run it for lockouts to survive a restart
(``appendonly yes``, ``appendfsync everysec``: docs/operations.md), and can be
killed (SIGKILL, as a crash) and restarted on the same port and files::

    with running_redis() as server:
        store = RedisStore(server.url)
        server.kill()      # Redis is down: the relay fails closed
        server.start()     # back, with what the AOF had
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .processes import stop_process
from .turn import require_tool

__all__ = ["RunningRedis", "running_redis"]

logger = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class RunningRedis:
    """One redis-server on 127.0.0.1:``port`` keeping its files in ``directory``."""

    port: int
    directory: Path
    process: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def start(self, timeout_s: float = 10.0) -> None:
        """Start (or start again) and wait until it answers PING."""
        assert self.process is None or self.process.poll() is not None, "already running"
        argv = [
            require_tool("redis-server"),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
            *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
            *("--logfile", str(self.log_path), "--protected-mode", "yes"),
        ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.process.returncode}):\n{self.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {self.port}:\n{self.log()[-2000:]}")
            time.sleep(0.02)
        logger.info("redis-server: stopped -> listening on %d", self.port)

    def kill(self) -> None:
        """SIGKILL, as a crash: only what the AOF has written survives."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
            logger.info("redis-server: listening -> killed")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def running_redis() -> Iterator[RunningRedis]:
    """A started redis-server, stopped and its files removed on exit."""
    with tempfile.TemporaryDirectory(prefix="madoguchi-redis-") as tmp:
        server = RunningRedis(port=_free_port(), directory=Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()
