"""Screen capture: a per-OS :class:`ScreenSource` behind :func:`create_source`.

Backends are imported lazily by the factory: MIT-SHM on X11 (:mod:`.xshm`), mss
elsewhere and as its fallback; both shrink large screens (:mod:`.downscale`).
"""

from .base import CapturedFrame, CaptureError, ScreenSource, desktop_info
from .budget import CpuBudget
from .change import Change, ChangeDetector, changed_rows, images_equal
from .cursor_image import CursorImage
from .damage import ChangeNotifier, create_change_notifier
from .factory import create_source
from .grabber import Grabber, GrabberItem

__all__ = [
    "CaptureError",
    "CapturedFrame",
    "Change",
    "ChangeDetector",
    "ChangeNotifier",
    "CpuBudget",
    "CursorImage",
    "Grabber",
    "GrabberItem",
    "ScreenSource",
    "changed_rows",
    "create_change_notifier",
    "create_source",
    "desktop_info",
    "images_equal",
]
