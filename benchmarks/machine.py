"""CPU time of a process and a description of the machine, for ``madoguchi bench``.

How CPU is attributed (see docs/performance.md): the agent runs in a child process,
so its figure is that process's CPU time - every thread, including libx264's and
FFmpeg's own - over the measurement window, read from ``/proc/PID/task/*/schedstat``
(nanoseconds). The operator runs in the benchmark process itself; its figure is
``time.process_time()`` of that process, which also contains the idle relay and the
benchmark's bookkeeping: an upper bound.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["machine_info", "process_cpu_seconds"]


def _schedstat_seconds(pid: int) -> float | None:
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return None
    found = False
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
            found = True
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9 if found else None


def _stat_seconds(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = text.rsplit(")", 1)[-1].split()
    try:
        ticks = int(fields[11]) + int(fields[12])
    except (ValueError, IndexError):
        return None
    per_second = 100  # USER_HZ on every Linux build; sysconf says so where it exists
    if sys.platform != "win32":
        per_second = int(os.sysconf("SC_CLK_TCK"))
    return ticks / per_second


def process_cpu_seconds(pid: int | None = None) -> float | None:
    """CPU seconds used so far by process ``pid`` (None: this process); None if unreadable."""
    if pid is None or pid == os.getpid():
        return time.process_time()
    seconds = _schedstat_seconds(pid)
    return seconds if seconds is not None else _stat_seconds(pid)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    import av

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "aiortc": _version("aiortc"),
        "av": _version("av"),
        "ffmpeg": getattr(av, "ffmpeg_version_info", None),
        "mss": _version("mss"),
        "numpy": _version("numpy"),
        "load_average_at_start": [round(v, 2) for v in load] if load else None,
    }
