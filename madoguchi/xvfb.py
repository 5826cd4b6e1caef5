"""A private X display (Xvfb) for the demo, the benchmarks and the tests.

Xvfb picks a free display number itself (``-displayfd``), so parallel runs never
collide. Only used where no real display is wanted; the agent itself captures
whatever display it is started on.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import time
from types import TracebackType

__all__ = ["VirtualDisplay", "XvfbError"]

logger = logging.getLogger(__name__)


class XvfbError(RuntimeError):
    """Xvfb is missing or did not start."""


class VirtualDisplay:
    """Run Xvfb for the lifetime of the object; ``name`` is the ``DISPLAY`` value.

    ``screens`` is a list of (width, height); more than one gives a side-by-side
    multi-monitor desktop through Xinerama.
    """

    def __init__(
        self,
        screens: list[tuple[int, int]] | None = None,
        depth: int = 24,
        start_timeout: float = 10.0,
    ) -> None:
        self.screens = screens or [(1920, 1080)]
        self.depth = depth
        self.start_timeout = start_timeout
        self.name = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        exe = shutil.which("Xvfb")
        if exe is None:
            raise XvfbError("Xvfb is not installed (Debian package 'xvfb')")
        read_fd, write_fd = os.pipe()
        cmd = [exe, "-displayfd", str(write_fd), "-nolisten", "tcp", "-noreset", "+extension", "RANDR"]
        if len(self.screens) > 1:
            cmd.append("+xinerama")
        for i, (w, h) in enumerate(self.screens):
            cmd += ["-screen", str(i), f"{w}x{h}x{self.depth}"]
        self._proc = subprocess.Popen(
            cmd, pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(write_fd)
        try:
            number = self._read_display_number(read_fd)
        finally:
            os.close(read_fd)
        self.name = f":{number}"
        logger.info("Xvfb started on %s (%s)", self.name, self.screens)
        return self.name

    def _read_display_number(self, fd: int) -> int:
        deadline = time.monotonic() + self.start_timeout
        buf = b""
        while not buf.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._proc is not None and self._proc.poll() is not None):
                self.stop()
                raise XvfbError("Xvfb did not start")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 64)
                if not chunk:
                    self.stop()
                    raise XvfbError("Xvfb exited before reporting its display")
                buf += chunk
        return int(buf.strip())

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> VirtualDisplay:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
