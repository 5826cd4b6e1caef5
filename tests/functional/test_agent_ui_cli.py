"""``madoguchi agent`` as a program: it starts, a second start hands over politely, SIGTERM ends it.

Real processes (offscreen Qt, the test Xvfb for capture) against a real relay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from relay.server import RunningRelay, relay_in_thread

pytestmark = [pytest.mark.display, pytest.mark.slow]


@pytest.fixture
def relay() -> Iterator[RunningRelay]:
    with relay_in_thread() as running:
        yield running


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def start_agent(url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "madoguchi", "-v", "agent", "--relay", url, "--lang", "en"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )


def test_agent_program_single_instance_and_clean_exit(relay: RunningRelay, xvfb: str, tmp_path: Path) -> None:
    env = dict(os.environ, DISPLAY=xvfb, QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_agent(relay.url, env, first_log)
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: any(tmp_path.glob("madoguchi-agent-*.lock")))
        wait_for(lambda: "terms en version" in first_log.read_text(errors="replace"))
        # On the terms page: the relay has heard nothing from it.
        stats = relay.state.registry.stats()
        assert (stats.connections, stats.codes_pending) == (0, 0)

        second = start_agent(relay.url, env, second_log)
        wait_for(lambda: "asked us to show the window" in first_log.read_text(errors="replace"))
        assert "another agent holds" in second_log.read_text(errors="replace")
        # The second one shows its "already running" message and registers nothing.
        assert second.poll() is None
        assert relay.state.registry.stats().connections == 0
        second.terminate()
        second.wait(10)

        first.send_signal(signal.SIGTERM)
        assert first.wait(15) == 0
        assert not any(tmp_path.glob("madoguchi-agent-*.lock"))
        assert "agent finished" in first_log.read_text(errors="replace")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
