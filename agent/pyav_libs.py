"""Where the native libraries PyAV ships are, for the agent's ctypes bindings.

:mod:`agent.x264` and :mod:`agent.swscale` call libx264 and libswscale directly for
what PyAV does not expose. They must use the very copies PyAV loaded (one libx264 and
one FFmpeg per process), so the search starts with what is already mapped into this
process (Linux: ``/proc/self/maps``), then looks where PyAV keeps its libraries: the
wheel's ``av.libs`` (auditwheel, delvewheel), ``av/.dylibs`` (delocate), the package
itself, and a PyInstaller bundle. Names differ by platform (``libswscale-<hash>.so.9``,
``swscale-9.dll``, ``libx264-165.dll``), so a library is looked up by its stem.
"""

from __future__ import annotations

import glob
import os
import sys

__all__ = ["candidates"]


def _mapped(stem: str) -> list[str]:
    return _mapped_linux(stem) if sys.platform.startswith("linux") else []


def _mapped_linux(stem: str) -> list[str]:
    found: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                name = os.path.basename(path)
                ours = name.startswith((f"lib{stem}-", f"lib{stem}.")) or name == f"lib{stem}"
                if ours and path not in found:
                    found.append(path)
    except OSError:
        pass
    return found


def _folders() -> list[str]:
    folders: list[str] = []
    try:
        import av

        package = os.path.dirname(av.__file__)
        folders += [os.path.join(package, os.pardir, "av.libs"), os.path.join(package, ".dylibs"), package]
    except ImportError:
        pass
    bundle = getattr(sys, "_MEIPASS", None)
    if isinstance(bundle, str):
        folders += [os.path.join(bundle, "av.libs"), os.path.join(bundle, "av", ".dylibs"), bundle]
    return folders


def candidates(stem: str) -> list[str]:
    """Paths that may hold the library ``stem`` (e.g. ``"x264"``, ``"swscale"``), best first."""
    found = _mapped(stem)
    for folder in _folders():
        for prefix in (f"lib{stem}", stem):
            for suffix in ("-*.so*", ".so*", "*.dylib", "-*.dll", ".dll"):
                for match in sorted(glob.glob(os.path.join(folder, prefix + suffix))):
                    path = os.path.normpath(match)
                    if path not in found:
                        found.append(path)
    return found
