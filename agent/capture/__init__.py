"""Screen capture: a per-OS :class:`ScreenSource` behind :func:`create_source`.

Backends are imported lazily by the factory; only the mss backend exists today.
"""

from .base import CapturedFrame, CaptureError, ScreenSource, desktop_info
from .change import ChangeDetector, images_equal
from .factory import create_source
from .grabber import Grabber, GrabberItem

__all__ = [
    "CaptureError",
    "CapturedFrame",
    "ChangeDetector",
    "Grabber",
    "GrabberItem",
    "ScreenSource",
    "create_source",
    "desktop_info",
    "images_equal",
]
