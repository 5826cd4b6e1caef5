"""The customer's first window must not wait for the media stack.

aiortc, PyAV and numpy are most of the agent's start-up time; the windows only need
the session's events (agent.events), and the bridge loads the media stack on a
background thread once the consent screen is up. aiohttp (about 140 ms) is imported
on the bridge's loop thread when the terms are first fetched.
"""

from __future__ import annotations

import subprocess
import sys


def _run_fresh(code: str) -> str:
    """``code``'s output in a new interpreter (nothing imported yet), Qt offscreen."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    return done.stdout.strip()


def test_agent_ui_imports_without_the_media_stack() -> None:
    code = (
        "import sys, agent.ui.app, agent.ui.controller, agent.ui.bridge\n"
        "heavy = ('aiortc', 'av', 'aiohttp', 'agent.session', 'agent.track')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    assert _run_fresh(code) == "[]"


def test_preload_loads_it() -> None:
    code = (
        "import sys\n"
        "from agent.ui.bridge import preload_media_stack\n"
        "preload_media_stack()\n"
        "print(all(m in sys.modules for m in ('aiortc', 'av', 'agent.session', 'agent.track')))"
    )
    assert _run_fresh(code) == "True"
