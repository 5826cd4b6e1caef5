"""Pick the backend for this OS, importing only that backend's module.

The Windows module imports ``winreg`` and ``ctypes.windll`` at import time and the
others run OS-specific commands, so each is imported lazily here and nowhere else.
"""

from __future__ import annotations

import sys

from .base import SysInfoBackend, UnsupportedPlatformError

__all__ = ["create_backend"]


def create_backend(*, deadline: float | None = None, platform: str | None = None) -> SysInfoBackend:
    """A backend for ``platform`` (default: this OS). Probes give up at ``deadline``
    (a ``time.monotonic()`` value).

    Raises UnsupportedPlatformError for an OS without a backend, and for a
    backend of another OS than the running one (it could not read anything).
    """
    name = sys.platform if platform is None else platform
    if name == "win32":
        return _windows(deadline)
    if name == "darwin":
        return _darwin(deadline)
    if name.startswith("linux"):
        return _linux(deadline)
    raise UnsupportedPlatformError(name)


def _windows(deadline: float | None) -> SysInfoBackend:
    if sys.platform == "win32":
        from .windows import WindowsBackend

        return WindowsBackend(deadline=deadline)
    else:
        raise UnsupportedPlatformError("win32")


def _darwin(deadline: float | None) -> SysInfoBackend:
    if sys.platform == "darwin":
        from .darwin import DarwinBackend

        return DarwinBackend(deadline=deadline)
    else:
        raise UnsupportedPlatformError("darwin")


def _linux(deadline: float | None) -> SysInfoBackend:
    if sys.platform.startswith("linux"):
        from .linux import LinuxBackend

        return LinuxBackend(deadline=deadline)
    else:
        raise UnsupportedPlatformError("linux")
