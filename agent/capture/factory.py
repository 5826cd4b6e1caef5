"""Pick the capture backend for this OS, importing it only when needed."""

from __future__ import annotations

import logging
import sys

from .base import CaptureError, ScreenSource

__all__ = ["SUPPORTED_PLATFORMS", "create_source"]

logger = logging.getLogger(__name__)

SUPPORTED_PLATFORMS = ("linux", "win32", "darwin")
"""``sys.platform`` prefixes mss can capture on."""


def create_source(display: str | None = None, *, platform: str | None = None) -> ScreenSource:
    """A :class:`ScreenSource` for the machine we run on, showing its primary monitor.

    ``display`` is the X11 display name (ignored elsewhere). ``platform`` overrides
    ``sys.platform`` (for tests). Raises :class:`CaptureError` when the OS is not
    supported or the screen cannot be opened (no ``$DISPLAY``, no permission).
    """
    plat = platform or sys.platform
    if not plat.startswith(SUPPORTED_PLATFORMS):
        raise CaptureError(f"screen capture is not supported on {plat!r}", operation="open")
    try:
        # Lazily: importing mss costs ctypes set-up we do not want in processes that never capture.
        from .mss_backend import MssSource
    except ImportError as exc:
        raise CaptureError(f"capture backend unavailable: {exc}", operation="open") from exc
    return MssSource(display)
