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
    multi-monitor desktop through Xinerama (mss sees only one monitor there).

    ``monitors`` is a list of (x, y, width, height): one X screen just large enough
    for all of them, split into RandR 1.5 monitors with ``xrandr --setmonitor`` (the
    first is primary). This is the layout in which mss and Qt see several monitors,
    as on a real multi-head desktop. Needs ``xrandr`` (Debian x11-xserver-utils).

    ``without`` names X extensions the server must not offer (``"MIT-SHM"``: a
    display like a remote one, where shared-memory grabs fail).
    """

    def __init__(
        self,
        screens: list[tuple[int, int]] | None = None,
        depth: int = 24,
        start_timeout: float = 10.0,
        monitors: list[tuple[int, int, int, int]] | None = None,
        without: tuple[str, ...] = (),
    ) -> None:
        if monitors and screens:
            raise ValueError("give either screens or monitors")
        self.monitors = list(monitors or [])
        if self.monitors:
            screens = [
                (max(x + w for x, _, w, _ in self.monitors), max(y + h for _, y, _, h in self.monitors))
            ]
        self.screens = screens or [(1920, 1080)]
        self.depth = depth
        self.without = without
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
        for extension in self.without:
            cmd += ["-extension", extension]
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
        if self.monitors:
            try:
                self._set_monitors()
            except BaseException:
                self.stop()
                raise
        return self.name

    def _set_monitors(self) -> None:
        exe = shutil.which("xrandr")
        if exe is None:
            raise XvfbError("xrandr is not installed (Debian package 'x11-xserver-utils')")
        env = dict(os.environ, DISPLAY=self.name)
        for i, (x, y, w, h) in enumerate(self.monitors):
            # The first monitor takes over Xvfb's only output ("screen"), which removes
            # the automatic full-screen monitor; the others are output-less monitors.
            # Physical sizes (mm) at 96 dpi so toolkits compute a sane DPI.
            name, output = ("*M0", "screen") if i == 0 else (f"M{i}", "none")
            geometry = f"{w}/{round(w * 25.4 / 96)}x{h}/{round(h * 25.4 / 96)}+{x}+{y}"
            result = subprocess.run(
                [exe, "--setmonitor", name, geometry, output],
                env=env,
                capture_output=True,
                timeout=10,
                check=False,
            )
            if result.returncode != 0:
                raise XvfbError(
                    f"xrandr --setmonitor failed: {result.stderr.decode(errors='replace').strip()}"
                )
        logger.info("Xvfb %s monitors: %s", self.name, self.monitors)

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
