"""Where the operator points, in the customer's terms: geometry and rate, no Qt.

:func:`picture_rect` says where the picture sits in the view (fit-to-window with
letterbox bars, or 100% with scrolling); :func:`normalise` turns a mouse position
into the ``Pointer`` message's coordinates, or ``None`` over a bar or outside the
picture, which then sends nothing. :class:`PointerThrottle` keeps the data channel
calm: at most ``max_rate_hz`` moves a second, only when the position changed, and
the last position of a burst is always sent (trailing edge), so the customer's
pointer ends where the operator's mouse stopped.
"""

from __future__ import annotations

import dataclasses
import enum
import logging

from protocol import POINTER_FADE_S, POINTER_IDLE_S

__all__ = ["Rect", "ViewMode", "PointerThrottle", "normalise", "picture_rect"]

logger = logging.getLogger(__name__)


class ViewMode(enum.StrEnum):
    FIT = "fit"
    """The whole picture, scaled to the view, aspect kept (letterboxed)."""
    ACTUAL = "actual"
    """One picture pixel per device pixel, scroll bars when larger than the view."""


@dataclasses.dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.width and self.y <= py < self.y + self.height


def picture_rect(
    mode: ViewMode,
    view_size: tuple[float, float],
    picture_size: tuple[int, int],
    *,
    device_pixel_ratio: float = 1.0,
    scroll: tuple[float, float] = (0.0, 0.0),
) -> Rect:
    """The picture's rectangle in view (logical) coordinates.

    ``picture_size`` is in picture pixels. In ACTUAL mode one picture pixel is one
    device pixel, so the picture is ``size / dpr`` logical pixels (crisp at HiDPI);
    it is centred when smaller than the view, else shifted by the scroll offsets.
    """
    view_w, view_h = view_size
    pic_w, pic_h = picture_size
    if pic_w <= 0 or pic_h <= 0 or view_w <= 0 or view_h <= 0:
        return Rect(0.0, 0.0, 0.0, 0.0)
    if mode is ViewMode.FIT:
        scale = min(view_w / pic_w, view_h / pic_h)
        width, height = pic_w * scale, pic_h * scale
        return Rect((view_w - width) / 2, (view_h - height) / 2, width, height)
    width, height = pic_w / device_pixel_ratio, pic_h / device_pixel_ratio
    x = (view_w - width) / 2 if width <= view_w else -scroll[0]
    y = (view_h - height) / 2 if height <= view_h else -scroll[1]
    return Rect(x, y, width, height)


def normalise(rect: Rect, px: float, py: float) -> tuple[float, float] | None:
    """(0, 0) top-left .. (1, 1) bottom-right of the picture, or None outside it."""
    if rect.width <= 0 or rect.height <= 0 or not rect.contains(px, py):
        return None
    return (px - rect.x) / rect.width, (py - rect.y) / rect.height


class PointerThrottle:
    """Rate limit and change filter for pointer moves; the caller supplies ``now`` (seconds)."""

    def __init__(self, max_rate_hz: float = 30.0, epsilon: float = 1e-4) -> None:
        self.interval = 1.0 / max_rate_hz
        self.epsilon = epsilon
        self._last_sent: tuple[float, float] | None = None
        self._last_time: float | None = None
        self._pending: tuple[float, float] | None = None

    def move(self, x: float, y: float, now: float) -> tuple[float, float] | None:
        """A new position: returns it if it should be sent now, else keeps it pending."""
        if self._same(x, y):
            self._pending = None
            return None
        if self._last_time is None or now - self._last_time >= self.interval:
            return self._sent((x, y), now)
        self._pending = (x, y)
        return None

    def due_in(self, now: float) -> float | None:
        """Seconds until the pending position may go out, or None when nothing is pending."""
        if self._pending is None:
            return None
        last = self._last_time if self._last_time is not None else now
        return max(0.0, last + self.interval - now)

    def flush(self, now: float) -> tuple[float, float] | None:
        """The pending position, if its time has come."""
        due = self.due_in(now)
        if due is None or due > 0:
            return None
        assert self._pending is not None
        return self._sent(self._pending, now)

    def sent_directly(self, x: float, y: float, now: float) -> None:
        """A click went out at (x, y): it moved the pointer too."""
        self._pending = None
        self._sent((x, y), now)

    def reset(self) -> None:
        """After a hide: the next move is sent whatever it is."""
        self._last_sent = None
        self._pending = None

    @property
    def last_sent(self) -> tuple[float, float] | None:
        return self._last_sent

    def resting(self, now: float) -> tuple[float, float, float] | None:
        """Where the customer's pointer rests and how opaque it is there, or None once faded.

        Mirrors the agent (:data:`protocol.POINTER_IDLE_S`, :data:`protocol.POINTER_FADE_S`):
        the console must not show a ring the customer no longer sees.
        """
        if self._last_sent is None or self._last_time is None:
            return None
        idle = now - self._last_time
        if idle >= POINTER_IDLE_S + POINTER_FADE_S:
            return None
        opacity = 1.0 if idle <= POINTER_IDLE_S else 1.0 - (idle - POINTER_IDLE_S) / POINTER_FADE_S
        return self._last_sent[0], self._last_sent[1], opacity

    def fades_in(self, now: float) -> float | None:
        """Seconds until the resting pointer is gone, or None when none is shown."""
        if self._last_sent is None or self._last_time is None:
            return None
        return max(0.0, self._last_time + POINTER_IDLE_S + POINTER_FADE_S - now)

    def _same(self, x: float, y: float) -> bool:
        last = self._last_sent
        return last is not None and abs(last[0] - x) < self.epsilon and abs(last[1] - y) < self.epsilon

    def _sent(self, position: tuple[float, float], now: float) -> tuple[float, float]:
        self._last_sent = position
        self._last_time = now
        self._pending = None
        return position
