"""The screen-capture abstraction: a ``ScreenSource`` per OS, frames, the domain error.

Exceptions: :class:`CaptureError` is the only one; it wraps whatever the backend
raised (``mss.ScreenShotError``, ``OSError``) and names the operation that failed.

Monitor numbering: physical monitors are numbered ``0..n-1`` in the backend's stable
order (mss order: the OS's own enumeration). Selecting ``None`` shares the whole
virtual desktop; that area is described by a :class:`protocol.MonitorInfo` whose
``index`` is ``n`` (one past the last monitor), so every area the operator can be
shown has a distinct index and ``Pointer.monitor`` can name it.
"""

from __future__ import annotations

import abc
import dataclasses
from types import TracebackType

import numpy as np
import numpy.typing as npt

from protocol import MonitorInfo

from .change import Change
from .cursor_image import CursorImage
from .damage import ChangeNotifier

__all__ = ["CaptureError", "CapturedFrame", "ScreenSource", "desktop_info"]


class CaptureError(RuntimeError):
    """Capturing the screen failed or is not possible here.

    ``operation`` says what was attempted (``"open"``, ``"monitors"``, ``"select"``,
    ``"grab"``); the original exception, if any, is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, operation: str = "") -> None:
        super().__init__(message)
        self.operation = operation


@dataclasses.dataclass(frozen=True, eq=False)
class CapturedFrame:
    """One grab of the selected area.

    ``image`` is a (H, W, 4) uint8 **BGRA** array in a buffer of this grab's own: a view
    of the bytearray mss filled or, for a large screen, the picture shrunk out of the
    grab (out of the MIT-SHM segment on X11), smaller than ``monitor``
    (:mod:`agent.capture.downscale`); ``monitor`` stays in screen pixels. Ownership:
    every grab gets a fresh buffer, owned by this frame alone and never reused or
    written by the source afterwards, so the frame stays valid for as long as anyone holds it
    (an ``av.VideoFrame`` built with ``from_numpy_buffer`` may keep it alive past the
    track). The array is marked read-only because encoders, the change detector and
    the previous-frame cache share it; copy it before painting on it. The alpha byte
    is whatever the OS returned (often 0 or 255) and carries no meaning.

    ``captured_at`` is :func:`time.monotonic` taken just before the grab was requested
    (the pixels are no older than that; latency measured from it includes the grab).
    The mouse cursor is not drawn into ``image``, and a grab does not read it: the
    cursor moves without drawing anything, so it is asked for on its own
    (:meth:`ScreenSource.cursor`). ``change`` says how this grab differs from the one
    before it; the grabber thread sets it (``None`` until then).
    """

    image: npt.NDArray[np.uint8]
    captured_at: float
    monitor: MonitorInfo
    change: Change | None = None

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


def desktop_info(monitors: list[MonitorInfo]) -> MonitorInfo:
    """The bounding box of all monitors, as the pseudo-monitor with index ``len(monitors)``."""
    if not monitors:
        raise CaptureError("no monitor to share", operation="monitors")
    left = min(m.x for m in monitors)
    top = min(m.y for m in monitors)
    right = max(m.x + m.width for m in monitors)
    bottom = max(m.y + m.height for m in monitors)
    return MonitorInfo(index=len(monitors), x=left, y=top, width=right - left, height=bottom - top)


class ScreenSource(abc.ABC):
    """Grabs pixels of one monitor (or the whole desktop) of the machine it runs on.

    Implementations are thread-safe in the one way the agent needs: ``grab()`` runs on
    the grabber thread while ``monitors()``/``select()`` may be called from the event
    loop thread. A new source selects the primary monitor.
    """

    @abc.abstractmethod
    def monitors(self) -> list[MonitorInfo]:
        """Physical monitors in physical pixels, ``index`` 0.. in a stable order, primary flagged.

        Queried from the OS on every call, so a monitor plugged in meanwhile shows up.
        """

    @abc.abstractmethod
    def select(self, index: int | None) -> MonitorInfo:
        """Share monitor ``index`` (``None``: all monitors as one desktop); returns its info.

        The next :meth:`grab` that starts after this returns has the new area and size.
        Raises :class:`CaptureError` for an unknown index.
        """

    @property
    @abc.abstractmethod
    def selected(self) -> MonitorInfo:
        """The area :meth:`grab` captures now."""

    @abc.abstractmethod
    def grab(self) -> CapturedFrame:
        """Capture the selected area now (blocking, typically 1-10 ms)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release OS resources; idempotent. The source cannot be used afterwards."""

    @abc.abstractmethod
    def cursor(self) -> tuple[int, int] | None:
        """The mouse cursor's position relative to the selected area's top-left corner in
        physical pixels, or ``None`` when it is outside the area or the OS does not tell."""

    def cursor_normalised(self) -> tuple[float, float] | None:
        """:meth:`cursor` as fractions of the selected area's picture (0..1, like a
        ``pointer`` message), or ``None``."""
        position = self.cursor()
        area = self.selected
        return None if position is None else (position[0] / area.width, position[1] / area.height)

    def cursor_shape_serial(self) -> int | None:
        """Identifies the cursor's current shape (a new value: it changed), or ``None``
        when this source cannot tell. Cheap enough to call with every position."""
        return None

    def cursor_image(self) -> CursorImage | None:
        """The cursor's current picture, or ``None`` when this source cannot read it."""
        return None

    def change_notifier(self) -> ChangeNotifier | None:
        """A new notifier telling when this source's screen may have changed, or None
        (then changes are found by grabbing and comparing). The caller closes it, and
        uses it from one thread only."""
        return None

    def __enter__(self) -> ScreenSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
