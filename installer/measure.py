"""Measure the packaged agent: size, and time from start to the consent window (docs/packaging.md).

``python -m installer.measure [dist/madoguchi-agent] [--runs 5]`` starts a
private Xvfb, then for each run copies the agent into a fresh directory with a
fresh ``HOME`` and ``TMPDIR`` (the agent deletes itself at the end), starts it,
and times until its window is mapped; then it closes it the way the window
manager would ask (SIGTERM, which the agent treats like the close button) and
checks that the copy removed itself. Prints one JSON object.

The timing includes everything a customer waits for: the one-file bootloader
unpacking the bundle, Python and Qt starting, and the first paint. It is
measured from outside by polling the X server (``xdotool``) every 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from testbed.xvfb import VirtualDisplay

__all__ = ["XDriver", "measure_start"]

CONSENT_TITLE = "^Screen sharing support$"
"""The agent's main window in English (``--lang en``)."""


class XDriver:
    """The few ``xdotool`` calls the tests and the measurement need, on one display."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.env = {**os.environ, "DISPLAY": display}

    def _run(self, *args: str) -> str:
        try:
            done = subprocess.run(
                ["xdotool", *args], env=self.env, capture_output=True, text=True, check=False, timeout=10
            )
        except subprocess.TimeoutExpired:
            # ``--sync`` waits for a window that may have just gone: the caller retries.
            return ""
        return done.stdout

    def windows(self, name: str) -> list[str]:
        """Visible windows whose title matches the regular expression ``name``."""
        return self._run("search", "--onlyvisible", "--name", name).split()

    def wait_window(self, name: str, timeout: float = 30.0, poll: float = 0.02) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.windows(name)
            if found:
                return found[0]
            time.sleep(poll)
        raise TimeoutError(f"no visible window named {name!r} within {timeout} s")

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        lines = self._run("getwindowgeometry", "--shell", window).split()
        values = dict(line.split("=", 1) for line in lines if "=" in line)
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def focus(self, window: str) -> None:
        self._run("windowfocus", "--sync", window)

    def key(self, window: str, *keys: str) -> None:
        """Give ``window`` the keyboard focus, then press ``keys`` (real key events, XTEST)."""
        self.focus(window)
        self._run("key", "--clearmodifiers", *keys)

    def type(self, window: str, text: str) -> None:
        self.focus(window)
        self._run("type", "--delay", "20", text)

    def click(self, x: int, y: int) -> None:
        self._run("mousemove", "--sync", str(x), str(y), "click", "1")


def _free_dirs(base: Path) -> tuple[Path, Path, Path]:
    app, home, tmp = base / "app", base / "home", base / "tmp"
    for d in (app, home, tmp):
        d.mkdir(parents=True)
    return app, home, tmp


def measure_start(agent: Path, display: str, *, timeout: float = 60.0) -> dict[str, object]:
    """One cold-copy start: seconds to the consent window, and whether the copy removed itself."""
    driver = XDriver(display)
    with tempfile.TemporaryDirectory(prefix="madoguchi-measure-") as scratch:
        app, home, tmp = _free_dirs(Path(scratch))
        program = app / agent.name
        shutil.copy2(agent, program)
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "DISPLAY": display,
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "LANG": "C.UTF-8",
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [str(program), "--lang", "en"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            driver.wait_window(CONSENT_TITLE, timeout)
            seconds = time.monotonic() - started
        finally:
            process.send_signal(signal.SIGTERM)
            status = process.wait(timeout)
        left = sorted(str(p.relative_to(scratch)) for p in Path(scratch).rglob("*"))
    return {
        "consent_window_s": round(seconds, 3),
        "exit_status": status,
        "left_behind": [p for p in left if p not in ("app", "home", "tmp")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("agent", type=Path, nargs="?", default=Path("dist/madoguchi-agent"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    agent: Path = args.agent.resolve()
    with VirtualDisplay(screens=[(1920, 1080)]) as display:
        runs = [measure_start(agent, display.name) for _ in range(args.runs)]
    times = [float(str(r["consent_window_s"])) for r in runs]
    report = {
        "agent": str(agent),
        "size_bytes": agent.stat().st_size,
        "size_mb": round(agent.stat().st_size / 1e6, 1),
        "consent_window_s": {
            "first": times[0],
            "median": round(statistics.median(times), 3),
            "min": min(times),
            "max": max(times),
        },
        "runs": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
