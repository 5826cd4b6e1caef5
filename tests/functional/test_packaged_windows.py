"""Windows only (the windows-latest workflow): the packaged agent's resources, and self-removal by the helper.

The agent is started from a fresh folder with ``TMP``/``TEMP`` pointing at a
fresh directory (where the bootloader unpacks and the agent keeps its data),
its window is closed the way the title bar's X does (``WM_CLOSE``), and then
the executable, the ``_MEI...`` directory, the data directory and the helper's
own script and note must all disappear within two minutes, without Notepad
(which would mean the helper gave up).

``MADOGUCHI_AGENT_EXE`` names a build to test (the workflow's ``dist``); without
it the test builds one (packaged_support.build).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.functional.packaged_support import build, listing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "win32", reason="Windows self-removal; Linux has its own tests"),
]

TITLE = "Screen sharing support"
WM_CLOSE = 0x0010


@pytest.fixture(scope="session")
def windows_agent() -> Path:
    given = os.environ.get("MADOGUCHI_AGENT_EXE")
    return Path(given) if given else build("agent")


def find_window(title: str) -> int:
    """A visible top-level window with exactly ``title``, or 0."""
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        found: list[int] = []
        callback_type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)

        def visit(hwnd: int, _: int) -> bool:
            if user32.IsWindowVisible(hwnd):
                buffer = ctypes.create_unicode_buffer(512)
                user32.GetWindowTextW(hwnd, buffer, 512)
                if buffer.value == title:
                    found.append(hwnd)
            return True

        user32.EnumWindows(callback_type(visit), 0)
        return found[0] if found else 0
    else:
        raise OSError("Windows only")


def close_window(hwnd: int) -> None:
    if sys.platform == "win32":
        import ctypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        if not user32.PostMessageW(hwnd, WM_CLOSE, 0, 0):
            raise ctypes.WinError(ctypes.get_last_error())
    else:
        raise OSError("Windows only")


def notepad_running() -> bool:
    done = subprocess.run(
        ["tasklist", "/fi", "IMAGENAME eq notepad.exe", "/fo", "csv", "/nh"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "notepad.exe" in done.stdout.lower()


@pytest.mark.timeout(1200)
def test_windows_resources(windows_agent: Path) -> None:
    from PyInstaller.utils.win32 import versioninfo, winmanifest

    manifest = winmanifest.read_manifest_from_executable(str(windows_agent))
    assert b'level="asInvoker"' in manifest
    info = str(versioninfo.read_version_info_from_executable(str(windows_agent)))
    assert "Madoguchi screen sharing support" in info
    assert "madoguchi-agent.exe" in info


@pytest.mark.timeout(1200)
def test_windows_agent_removes_itself_after_the_window_closes(windows_agent: Path, tmp_path: Path) -> None:
    downloads, temp = tmp_path / "Downloads (1) & more", tmp_path / "temp"
    downloads.mkdir()
    temp.mkdir()
    program = downloads / windows_agent.name
    shutil.copy2(windows_agent, program)
    env = {**os.environ, "TMP": str(temp), "TEMP": str(temp), "MADOGUCHI_LANG": "en"}
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(program), "--lang", "en", "--relay", "http://127.0.0.1:9", "-vv"],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 90
        hwnd = 0
        while time.monotonic() < deadline and not hwnd:
            hwnd = find_window(TITLE)
            time.sleep(0.2)
        assert hwnd, "the agent's window did not appear"
        unpacked = [p for p in temp.iterdir() if p.name.startswith("_MEI")]
        assert len(unpacked) == 1
        assert [p for p in temp.iterdir() if p.name.startswith("madoguchi-agent-")]
        close_window(hwnd)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (program.exists() or listing(temp)):
        time.sleep(1)
    left = sorted(listing(temp))
    assert not program.exists(), f"still there: {program}; {left}"
    assert left == [], left
    assert not notepad_running(), "the helper opened its failure note"
    assert listing(downloads) == set()
