"""The mss backend: X11 (XShm), Windows (GDI BitBlt) and macOS (CoreGraphics).

On X11 the factory prefers :class:`agent.capture.xshm.XShmSource`, which grabs large
screens into one reused shared-memory segment and shrinks them from there; this class
is its base (it lists monitors, reads the cursor, grabs full-size pictures and shrinks
for both) and the fallback when MIT-SHM is unavailable. Windows and macOS grab with mss.

Each thread that touches mss gets its own ``mss.MSS`` instance: the grabber thread
keeps one for its lifetime, while monitor queries use a short-lived instance so the
list is always fresh (``mss.MSS`` caches monitors forever) and never contend with a
grab in progress. mss returns a fresh ``bytearray`` per grab (its XShm/DIB buffers
are copied out once inside mss), and :class:`CapturedFrame` wraps exactly that
bytearray as a numpy view: no further copy.

Large screens are shrunk right after the grab by the largest whole factor that keeps
the picture at least ``min_picture`` (:mod:`agent.capture.downscale`: 3840x2160 ->
1920x1080): the frame then has the shrunk size, :meth:`MssSource.cursor` is in the
shrunk picture's pixels, and the monitor descriptions (and so the operator's
normalised pointer) stay in real screen pixels.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import mss
import numpy as np
import numpy.typing as npt

from protocol import MonitorInfo

from .base import CapturedFrame, CaptureError, ScreenSource, desktop_info
from .cursor import CursorReader, create_cursor_reader
from .cursor_image import CursorImage
from .damage import ChangeNotifier, create_change_notifier
from .downscale import DEFAULT_MIN_PICTURE, Downscaler, downscale_factor

__all__ = ["MssSource"]

logger = logging.getLogger(__name__)


class MssSource(ScreenSource):
    """A :class:`ScreenSource` over mss.

    ``display`` (X11 only) names the X display; default ``$DISPLAY``. The constructor
    opens the display once to list monitors and raises :class:`CaptureError` if it
    cannot, so a broken environment fails early rather than on the first grab.
    ``min_picture`` is the size a large screen is shrunk towards by a whole factor
    (None: grabs keep the screen's size).
    """

    def __init__(
        self, display: str | None = None, *, min_picture: tuple[int, int] | None = DEFAULT_MIN_PICTURE
    ) -> None:
        self._display = display
        self._min_picture = min_picture
        self._downscaler = Downscaler()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._instances: list[Any] = []
        self._closed = False
        monitors = self.monitors()
        primary = next(m for m in monitors if m.primary)
        self._selected = primary
        self._cursor: CursorReader = create_cursor_reader(display)
        self._pixels_per_point = self._expected_scale(primary)
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
                self._pixels_per_point = self._expected_scale(chosen)
        if old != chosen:
            logger.info("shared area %s -> %s", _describe(old), _describe(chosen))
        return chosen

    @property
    def selected(self) -> MonitorInfo:
        return self._selected

    @property
    def downscaler(self) -> Downscaler:
        """What shrinks large screens (its ``backend`` says libyuv or numpy)."""
        return self._downscaler

    def grab(self) -> CapturedFrame:
        self._check_open()
        area = self._selected
        # Stamped before the request: the pixels are at least this old, so latency
        # measured from here includes the grab itself, and grabs started on a fixed
        # schedule get evenly spaced timestamps whatever the X server's load.
        captured_at = time.monotonic()
        image, owned = self._grab_pixels(area)
        factor = downscale_factor(int(image.shape[1]), int(image.shape[0]), self._min_picture)
        if factor > 1:
            image = self._downscaler.shrink(image, factor)
        elif not owned:
            image = image.copy()  # out of a reused buffer: the frame must own its pixels
        image.flags.writeable = False
        self._pixels_per_point = image.shape[1] / area.width
        return CapturedFrame(image=image, captured_at=captured_at, monitor=area)

    def _expected_scale(self, area: MonitorInfo) -> float:
        """Picture pixels per area unit before a grab tells: the shrink the area's size implies."""
        return 1.0 / downscale_factor(area.width, area.height, self._min_picture)

    def _grab_pixels(self, area: MonitorInfo) -> tuple[npt.NDArray[np.uint8], bool]:
        """The area's pixels at full size as (H, W, 4) BGRA, and whether the array is this
        grab's own (False: a view of a buffer the next grab overwrites)."""
        sct = self._thread_mss()
        region = {"left": area.x, "top": area.y, "width": area.width, "height": area.height}
        try:
            shot = sct.grab(region)
        except (mss.ScreenShotError, OSError) as exc:
            raise CaptureError(f"grab failed: {exc}", operation="grab") from exc
        width, height = shot.size
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(height, width, 4), True

    def cursor(self) -> tuple[int, int] | None:
        self._check_open()
        offset = self._cursor_offset()
        if offset is None:
            return None
        # In the picture's pixels: scaled for sources whose pixels differ from the area's
        # points (HiDPI macOS) or that shrink the grab (large screens: a whole factor, so
        # this is an integer division). The last grab tells; before the area's first grab,
        # the shrink its size implies.
        scale = self._pixels_per_point
        return int(offset[0] * scale), int(offset[1] * scale)

    def cursor_normalised(self) -> tuple[float, float] | None:
        # From the screen position itself, not the picture pixel: a shrunk picture would
        # round the fraction to whole picture pixels.
        self._check_open()
        offset = self._cursor_offset()
        if offset is None:
            return None
        area = self._selected
        return offset[0] / area.width, offset[1] / area.height

    def _cursor_offset(self) -> tuple[int, int] | None:
        """The cursor relative to the shared area's top-left, in the area's own units, or
        None when it is outside the area."""
        area = self._selected
        position = self._cursor.position()
        if position is None:
            return None
        dx, dy = position[0] - area.x, position[1] - area.y
        return (dx, dy) if 0 <= dx < area.width and 0 <= dy < area.height else None

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
