"""Pick the capture backend for this OS, importing it only when needed.

X11: :class:`agent.capture.xshm.XShmSource` (large screens grabbed through MIT-SHM
into one reused segment and shrunk from there), or
:class:`agent.capture.mss_backend.MssSource` when MIT-SHM does not work there (a
remote display, no ``libxcb-shm``). Windows and macOS: ``MssSource``. Both shrink
large screens (:mod:`agent.capture.downscale`) when libyuv is there; without it (the
Windows build ships none) the grab stays full size and the encoder scales it on its way
to yuv420p as before: numpy's box mean (~20 ms a 4K frame) would cost more than the
encoder's swscale scaling it replaces (~8 ms).
"""

from __future__ import annotations

import logging
import sys

from .base import CaptureError, ScreenSource
from .downscale import DEFAULT_MIN_PICTURE, libyuv_available

__all__ = ["SUPPORTED_PLATFORMS", "create_source"]

logger = logging.getLogger(__name__)

SUPPORTED_PLATFORMS = ("linux", "win32", "darwin")
"""``sys.platform`` prefixes mss can capture on."""


def create_source(
    display: str | None = None,
    *,
    platform: str | None = None,
    min_picture: tuple[int, int] | None = DEFAULT_MIN_PICTURE,
    shared_memory: bool = True,
) -> ScreenSource:
    """A :class:`ScreenSource` for the machine we run on, showing its primary monitor.

    ``display`` is the X11 display name (ignored elsewhere). ``platform`` overrides
    ``sys.platform`` (for tests). ``min_picture`` is the size large screens are shrunk
    towards by a whole factor (None: never shrink; also without libyuv). ``shared_memory`` False skips the
    MIT-SHM backend on X11 (mss grabs). Raises :class:`CaptureError` when the OS is not
    supported or the screen cannot be opened (no ``$DISPLAY``, no permission).
    """
    plat = platform or sys.platform
    if min_picture is not None and not libyuv_available():
        logger.info("libyuv not found: large screens are grabbed whole and scaled by the encoder")
        min_picture = None
    if not plat.startswith(SUPPORTED_PLATFORMS):
        raise CaptureError(f"screen capture is not supported on {plat!r}", operation="open")
    try:
        # Lazily: importing mss costs ctypes set-up we do not want in processes that never capture.
        from .mss_backend import MssSource
    except ImportError as exc:
        raise CaptureError(f"capture backend unavailable: {exc}", operation="open") from exc
    if sys.platform.startswith("linux"):
        if shared_memory and plat.startswith("linux"):
            from .xshm import XShmSource  # Linux only: memfd and MIT-SHM

            try:
                return XShmSource(display, min_picture=min_picture)
            except OSError as exc:
                logger.warning("MIT-SHM grabs unavailable (%s): grabbing through mss", exc)
    return MssSource(display, min_picture=min_picture)
