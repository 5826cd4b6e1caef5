"""``madoguchi console`` as a real program in a real X window (Xvfb): typed login, clean exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.world import World
from testbed.xvfb import VirtualDisplay

pytestmark = [pytest.mark.display]

PASSWORD = "correct horse battery"


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    world.add_operator("hanako", PASSWORD, "佐藤 花子", "Madoguchi Securities")
    yield world
    world.close()


def _wait(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_log_in_by_keyboard_then_sigterm_closes_cleanly(world: World, tmp_path: Path) -> None:
    settings = tmp_path / "console.ini"
    with VirtualDisplay(screens=[(1366, 768)]) as display:
        env = dict(os.environ, DISPLAY=display.name, QT_QPA_PLATFORM="xcb", MADOGUCHI_LANG="en")
        process = subprocess.Popen(
            [sys.executable, "-m", "madoguchi", "console", "--relay", world.url, "--settings", str(settings)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:

            def window_named(pattern: str) -> bool:
                found = subprocess.run(
                    ["xdotool", "search", "--name", pattern],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                return found.returncode == 0 and bool(found.stdout.strip())

            _wait(lambda: window_named("log in$"), 30, "the login dialog")
            # The user name field has the focus (no name remembered yet): type as a person would.
            for args in (
                ["type", "--delay", "10", "hanako"],
                ["key", "Tab"],
                ["type", "--delay", "10", PASSWORD],
                ["key", "Return"],
            ):
                subprocess.run(["xdotool", *args], env=env, check=True)
            _wait(lambda: settings.exists() and "hanako" in settings.read_text(), 20, "a successful login")
            _wait(lambda: window_named("^Madoguchi operator console$"), 20, "the main window")
            assert world.relay.audit_rows("login_succeeded")
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, output
    stored = settings.read_text()
    assert world.url in stored
    assert PASSWORD not in stored
    assert "geometry" in stored  # the window closed through its close event, which saves it
