"""The mss backend: X11 (XShm), Windows (GDI BitBlt) and macOS (CoreGraphics).

Each thread that touches mss gets its own ``mss.MSS`` instance: the grabber thread
keeps one for its lifetime, while monitor queries use a short-lived instance so the
list is always fresh (``mss.MSS`` caches monitors forever) and never contend with a
grab in progress. mss returns a fresh ``bytearray`` per grab (its XShm/DIB buffers
are copied out once inside mss), and :class:`CapturedFrame` wraps exactly that
bytearray as a numpy view: no further copy.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import mss
import numpy as np

from protocol import MonitorInfo

from .base import CapturedFrame, CaptureError, ScreenSource, desktop_info
from .cursor import CursorReader, create_cursor_reader
from .cursor_image import CursorImage
from .damage import ChangeNotifier, create_change_notifier

__all__ = ["MssSource"]

logger = logging.getLogger(__name__)


class MssSource(ScreenSource):
    """A :class:`ScreenSource` over mss.

    ``display`` (X11 only) names the X display; default ``$DISPLAY``. The constructor
    opens the display once to list monitors and raises :class:`CaptureError` if it
    cannot, so a broken environment fails early rather than on the first grab.
    """

    def __init__(self, display: str | None = None) -> None:
        self._display = display
        self._lock = threading.Lock()
        self._local = threading.local()
        self._instances: list[Any] = []
        self._closed = False
        monitors = self.monitors()
        primary = next(m for m in monitors if m.primary)
        self._selected = primary
        self._cursor: CursorReader = create_cursor_reader(display)
        self._pixels_per_point = 1.0
        logger.info("mss source: monitors %s, sharing %d", [_describe(m) for m in monitors], primary.index)

    def _new_mss(self) -> Any:
        # Passing ``display`` on another OS makes mss warn (an error under our tests).
        kwargs: dict[str, Any] = {}
        if sys.platform.startswith("linux") and self._display is not None:
            kwargs["display"] = self._display
        try:
            return mss.MSS(**kwargs)
        except (mss.ScreenShotError, OSError) as exc:
            raise CaptureError(f"cannot open the screen: {exc}", operation="open") from exc

    def _thread_mss(self) -> Any:
        sct = getattr(self._local, "sct", None)
        if sct is None:
            sct = self._new_mss()
            self._local.sct = sct
            with self._lock:
                self._instances.append(sct)
        return sct

    def monitors(self) -> list[MonitorInfo]:
        self._check_open()
        with self._new_mss() as sct:
            try:
                raw = list(sct.monitors)
            except (mss.ScreenShotError, OSError) as exc:
                raise CaptureError(f"cannot list monitors: {exc}", operation="monitors") from exc
        # raw[0] is mss's bounding box of everything; raw[1:] are the monitors in OS order.
        physical = raw[1:] or raw[:1]
        flagged = [bool(m.get("is_primary", False)) for m in physical]
        if not any(flagged):
            # X servers may report no primary (Xvfb does); mss itself then uses the first.
            flagged[0] = True
        return [
            MonitorInfo(
                index=i,
                x=int(m["left"]),
                y=int(m["top"]),
                width=int(m["width"]),
                height=int(m["height"]),
                primary=flagged[i],
            )
            for i, m in enumerate(physical)
        ]

    def select(self, index: int | None) -> MonitorInfo:
        monitors = self.monitors()
        if index is None or index == len(monitors):
            chosen = desktop_info(monitors)
        elif 0 <= index < len(monitors):
            chosen = monitors[index]
        else:
            raise CaptureError(f"no monitor {index} (have {len(monitors)})", operation="select")
        with self._lock:
            old, self._selected = self._selected, chosen
        if old != chosen:
            logger.info("shared area %s -> %s", _describe(old), _describe(chosen))
        return chosen

    @property
    def selected(self) -> MonitorInfo:
        return self._selected

    def grab(self) -> CapturedFrame:
        self._check_open()
        area = self._selected
        sct = self._thread_mss()
        region = {"left": area.x, "top": area.y, "width": area.width, "height": area.height}
        # Stamped before the request: the pixels are at least this old, so latency
        # measured from here includes the grab itself, and grabs started on a fixed
        # schedule get evenly spaced timestamps whatever the X server's load.
        captured_at = time.monotonic()
        try:
            shot = sct.grab(region)
        except (mss.ScreenShotError, OSError) as exc:
            raise CaptureError(f"grab failed: {exc}", operation="grab") from exc
        width, height = shot.size
        image = np.frombuffer(shot.raw, dtype=np.uint8).reshape(height, width, 4)
        image.flags.writeable = False
        self._pixels_per_point = width / area.width
        return CapturedFrame(image=image, captured_at=captured_at, monitor=area)

    def cursor(self) -> tuple[int, int] | None:
        self._check_open()
        area = self._selected
        position = self._cursor.position()
        if position is None:
            return None
        # Scale for sources whose pixels differ from the requested area's (HiDPI macOS):
        # the last grab tells; before any grab, one pixel per point.
        scale = self._pixels_per_point
        width, height = round(area.width * scale), round(area.height * scale)
        cx, cy = int((position[0] - area.x) * scale), int((position[1] - area.y) * scale)
        return (cx, cy) if 0 <= cx < width and 0 <= cy < height else None

    def cursor_normalised(self) -> tuple[float, float] | None:
        position = self.cursor()
        if position is None:
            return None
        area, scale = self._selected, self._pixels_per_point
        return position[0] / round(area.width * scale), position[1] / round(area.height * scale)

    def cursor_shape_serial(self) -> int | None:
        self._check_open()
        return self._cursor.shape_serial()

    def cursor_image(self) -> CursorImage | None:
        self._check_open()
        return self._cursor.image()

    def change_notifier(self) -> ChangeNotifier | None:
        # X DAMAGE on Linux; DXGI dirty rectangles would be the Windows equivalent (not yet).
        return create_change_notifier(self._display) if sys.platform.startswith("linux") else None

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            instances, self._instances = self._instances, []
        for sct in instances:
            sct.close()
        self._cursor.close()
        logger.debug("mss source closed")

    def _check_open(self) -> None:
        if self._closed:
            raise CaptureError("the screen source is closed", operation="grab")


def _describe(m: MonitorInfo) -> str:
    return f"#{m.index} {m.width}x{m.height}+{m.x}+{m.y}{' primary' if m.primary else ''}"
