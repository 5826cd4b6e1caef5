"""Windows: a running executable cannot delete itself, so a helper finishes after the agent has quit.

Windows keeps the image file of a running process (and every loaded DLL) locked.
The agent therefore writes a small batch script into the temporary directory
and starts it, hidden and detached, just before it quits. The script:

1. writes a "started" marker (the agent waits for it: a helper that never runs,
   say because command scripts are blocked by policy, is detected at once);
2. waits until both agent processes have exited (the one-file bootloader and
   the Python process it started; ``tasklist``, bounded);
3. deletes the executable, the unpack directory and the data directory,
   retrying while antivirus scanners or the bootloader still hold a handle;
4. on success deletes its note, its marker and itself; on failure opens the
   note in Notepad, which lists exactly what to delete by hand (never silent).

The script is pure ASCII and names no path: every path reaches it through an
environment variable, which cmd expands from the (Unicode) environment block,
so a Japanese user name or a folder called ``A&B (1)`` cannot break it.

Fallback: if the helper does not start, each target is handed to
``MoveFileExW(MOVEFILE_DELAY_UNTIL_REBOOT)``. Windows only honours that for
administrators (it writes ``PendingFileRenameOperations`` under HKLM); the agent
runs ``asInvoker``, so for most customers it fails too, and then the agent shows
what to delete by hand.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .base import (
    HELPER_PREFIX,
    RemovalOutcome,
    RemovalPlan,
    Remover,
    UninstallError,
    check_helper_file,
)

__all__ = [
    "HelperFiles",
    "WindowsRemover",
    "helper_environment",
    "helper_script",
    "note_text",
    "prepare_helper",
    "schedule_at_reboot",
]

logger = logging.getLogger(__name__)

MOVEFILE_DELAY_UNTIL_REBOOT = 0x4
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_NO_WINDOW = 0x08000000
CREATE_BREAKAWAY_FROM_JOB = 0x01000000
"""Survive a launcher's job object that kills its members when it closes (if the job allows it)."""

ENV_PREFIX = "MADOGUCHI_RM_"


def helper_script() -> str:
    """The batch script (CRLF, ASCII); it reads everything from ``MADOGUCHI_RM_*`` variables.

    Lines that name a path are never inside a parenthesised block, where a ``)``
    in a path would end the block early.
    """
    lines = [
        "@echo off",
        "setlocal EnableExtensions DisableDelayedExpansion",
        "rem Madoguchi agent self-removal helper, written by agent/uninstall/windows.py.",
        "rem Paths arrive in MADOGUCHI_RM_* environment variables so this file stays ASCII.",
        'echo started>"%MADOGUCHI_RM_MARKER%"',
        "set /a waited=0",
        ":wait_agent",
        "set running=",
        # CSV rows look like "name.exe","1234",...: match the quoted PID exactly.
        "for %%p in (%MADOGUCHI_RM_PIDS%) do (",
        '  tasklist /fi "PID eq %%p" /fo csv /nh 2>nul | find ",""%%p""," >nul && set running=1',
        ")",
        "if not defined running goto remove",
        "set /a waited+=1",
        "if %waited% geq %MADOGUCHI_RM_WAIT% goto remove",
        "call :pause",
        "goto wait_agent",
        ":remove",
        "set /a tries=0",
        ":remove_again",
        "set left=",
        'if exist "%MADOGUCHI_RM_EXE%" del /f /q "%MADOGUCHI_RM_EXE%" >nul 2>&1',
        'if exist "%MADOGUCHI_RM_EXE%" set left=1',
        'if exist "%MADOGUCHI_RM_UNPACK%\\" rd /s /q "%MADOGUCHI_RM_UNPACK%" >nul 2>&1',
        'if exist "%MADOGUCHI_RM_UNPACK%\\" set left=1',
        "if not defined MADOGUCHI_RM_DATA goto removed_data",
        'if exist "%MADOGUCHI_RM_DATA%\\" rd /s /q "%MADOGUCHI_RM_DATA%" >nul 2>&1',
        'if exist "%MADOGUCHI_RM_DATA%\\" set left=1',
        ":removed_data",
        "if not defined left goto done",
        "set /a tries+=1",
        "if %tries% geq %MADOGUCHI_RM_TRIES% goto failed",
        "call :pause",
        "goto remove_again",
        ":failed",
        'start "" notepad.exe "%MADOGUCHI_RM_NOTE%"',
        'del /f /q "%MADOGUCHI_RM_MARKER%" >nul 2>&1',
        # "(goto)" ends the batch context but the rest of the line still runs:
        # the script can delete itself without cmd failing to read its next line.
        '(goto) 2>nul & del /f /q "%MADOGUCHI_RM_SCRIPT%"',
        ":done",
        'del /f /q "%MADOGUCHI_RM_NOTE%" >nul 2>&1',
        'del /f /q "%MADOGUCHI_RM_MARKER%" >nul 2>&1',
        '(goto) 2>nul & del /f /q "%MADOGUCHI_RM_SCRIPT%"',
        ":pause",
        # About one second. timeout.exe refuses to run without a console input,
        # which this hidden helper does not have, so ping is the first choice.
        "ping -n 2 127.0.0.1 >nul 2>&1 || timeout /t 1 /nobreak >nul 2>&1",
        "exit /b 0",
    ]
    return "\r\n".join(lines) + "\r\n"


def note_text(plan: RemovalPlan, note: Path) -> str:
    """What Notepad shows when the helper failed: Japanese first, then English."""
    paths = "\r\n".join(f"  {p}" for p in plan.targets)
    return (
        "画面共有サポートのプログラムは、終了後に自分自身を削除できませんでした。\r\n"
        "次のファイルやフォルダーが残っていたら、エクスプローラーで削除してください。\r\n"
        "(削除できないときは、パソコンを再起動してからもう一度お試しください。)\r\n\r\n"
        f"{paths}\r\n  {note}\r\n\r\n"
        "The screen sharing support program could not delete itself after it closed.\r\n"
        "If any of these files or folders still exist, please delete them in File Explorer\r\n"
        "(if that fails, restart the computer and try again):\r\n\r\n"
        f"{paths}\r\n  {note}\r\n"
    )


@dataclasses.dataclass(frozen=True)
class HelperFiles:
    script: Path
    note: Path
    marker: Path


def prepare_helper(plan: RemovalPlan, pid: int) -> HelperFiles:
    """Write the script and the note next to the unpack directory; check every name first."""
    base = plan.temp_root / f"{HELPER_PREFIX}{pid}"
    files = HelperFiles(
        script=base.with_suffix(".cmd"), note=base.with_suffix(".txt"), marker=base.with_suffix(".started")
    )
    for path in (files.script, files.note, files.marker):
        check_helper_file(path, temp_roots=[plan.temp_root], protected=[plan.temp_root])
    with contextlib.suppress(FileNotFoundError):
        files.marker.unlink()
    files.script.write_bytes(helper_script().encode("ascii"))
    # UTF-8 with a byte-order mark: Notepad on every Windows 10 build reads it as UTF-8.
    files.note.write_bytes(note_text(plan, files.note).encode("utf-8-sig"))
    return files


def helper_environment(
    plan: RemovalPlan,
    files: HelperFiles,
    pids: Sequence[int],
    *,
    base: dict[str, str] | None = None,
    wait_s: int = 60,
    tries: int = 30,
) -> dict[str, str]:
    """The helper's environment: ours (for SystemRoot, PATH, PATHEXT) plus the ``MADOGUCHI_RM_*`` values."""
    source = base if base is not None else os.environ
    env = {k: v for k, v in source.items() if not k.startswith(ENV_PREFIX)}
    env.update(
        {
            f"{ENV_PREFIX}EXE": str(plan.executable),
            f"{ENV_PREFIX}UNPACK": str(plan.unpack_dir),
            f"{ENV_PREFIX}SCRIPT": str(files.script),
            f"{ENV_PREFIX}NOTE": str(files.note),
            f"{ENV_PREFIX}MARKER": str(files.marker),
            f"{ENV_PREFIX}PIDS": " ".join(str(p) for p in pids),
            f"{ENV_PREFIX}WAIT": str(wait_s),
            f"{ENV_PREFIX}TRIES": str(tries),
        }
    )
    if plan.data_dir is not None:
        env[f"{ENV_PREFIX}DATA"] = str(plan.data_dir)
    return env


def schedule_at_reboot(path: Path) -> int:
    """``MoveFileExW(path, NULL, MOVEFILE_DELAY_UNTIL_REBOOT)``: 0, or the Windows error code."""
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        move = kernel32.MoveFileExW
        move.argtypes = (wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD)
        move.restype = wintypes.BOOL
        if move(str(path), None, MOVEFILE_DELAY_UNTIL_REBOOT):
            return 0
        return int(ctypes.get_last_error())
    else:
        raise UninstallError("MoveFileExW exists only on Windows")


def _schedule(path: Path) -> int:
    try:
        return schedule_at_reboot(path)
    except UninstallError:
        return -1  # not on Windows: nothing can be scheduled


def _tree_bottom_up(root: Path) -> list[Path]:
    """Files first, then their directories, deepest first: delayed deletion needs empty directories."""
    found: list[Path] = []
    for folder, dirs, names in os.walk(root, topdown=False):
        found.extend(Path(folder) / n for n in names)
        found.extend(Path(folder) / d for d in dirs)
    found.append(root)
    return found


def _launch(files: HelperFiles, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    system_root = env.get("SystemRoot") or env.get("SYSTEMROOT") or r"C:\Windows"
    cmd = str(Path(system_root) / "System32" / "cmd.exe")
    args = [cmd, "/d", "/q", "/c", str(files.script)]
    flags = CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP
    last: OSError | None = None
    # Breaking away from a job object is refused when the job does not allow it:
    # then start inside it and hope the job outlives us (it usually does).
    for extra in (CREATE_BREAKAWAY_FROM_JOB, 0):
        try:
            return subprocess.Popen(
                args,
                env=env,
                cwd=str(cwd),
                creationflags=flags | extra,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError as exc:
            logger.info("helper start with flags %#x failed: %s", flags | extra, exc)
            last = exc
    assert last is not None
    raise last


class WindowsRemover(Remover):
    def __init__(
        self,
        *,
        pids: Sequence[int] | None = None,
        handshake_s: float = 5.0,
        wait_s: int = 60,
        tries: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Our process and the one-file bootloader that started us (both hold the exe).
        self.pids = tuple(pids) if pids is not None else (os.getpid(), os.getppid())
        self.handshake_s = handshake_s
        self.wait_s = wait_s
        self.tries = tries
        self._clock = clock

    def remove(self, plan: RemovalPlan) -> RemovalOutcome:
        files: HelperFiles | None = None
        try:
            files = prepare_helper(plan, self.pids[0])
            env = helper_environment(plan, files, self.pids, wait_s=self.wait_s, tries=self.tries)
            process = _launch(files, env, plan.temp_root)
        except (OSError, ValueError, UninstallError) as exc:
            # ValueError: subprocess refuses Windows creation flags on other systems.
            logger.error("self-removal helper could not start: %s", exc)
            return self._fallback(plan, files, f"helper: {exc}")
        deadline = self._clock() + self.handshake_s
        while self._clock() < deadline:
            if files.marker.exists():
                logger.info("self-removal helper %d started; it finishes after we exit", process.pid)
                return RemovalOutcome(method="helper", deferred=plan.targets)
            if process.poll() is not None:
                break
            time.sleep(0.05)
        logger.error("self-removal helper gave no sign of life (exit status %s)", process.poll())
        if process.poll() is None:
            process.kill()
        return self._fallback(plan, files, "the helper did not start")

    def _fallback(self, plan: RemovalPlan, files: HelperFiles | None, why: str) -> RemovalOutcome:
        # Whatever is not locked can go now; the rest must wait for a reboot or a person.
        if plan.data_dir is not None:
            shutil.rmtree(plan.data_dir, ignore_errors=True)
        extra = [] if files is None else [files.script, files.note, files.marker]
        for path in extra:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        deferred: list[Path] = []
        remaining: list[Path] = []
        errors: list[str] = []
        for target in plan.targets:
            if not os.path.lexists(target):
                continue
            entries = _tree_bottom_up(target) if target.is_dir() else [target]
            codes = [_schedule(entry) for entry in entries]
            failed = [c for c in codes if c != 0]
            if failed:
                errors.append(f"MoveFileExW({target}) failed with error {failed[0]}")
                remaining.append(target)
            else:
                deferred.append(target)
        if remaining:
            logger.error("self-removal: %s; %s", why, "; ".join(errors))
            return RemovalOutcome(
                method="none",
                removed=tuple(t for t in plan.targets if not os.path.lexists(t)),
                remaining=tuple(remaining),
                deferred=tuple(deferred),
                error=f"{why}; {'; '.join(errors)}",
            )
        logger.warning("self-removal: %s; deletion scheduled for the next restart", why)
        return RemovalOutcome(method="at-reboot", deferred=tuple(deferred), error=why)
