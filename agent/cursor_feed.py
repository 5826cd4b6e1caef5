"""What the operator learns about the customer's mouse cursor, and when: no I/O here.

The agent does not paint the cursor into the video. It sends the cursor's position
(``cursor``, ~80 bytes) and, once per shape change, its picture (``cursor_shape``) on
the guidance channel, and the console draws it over the picture. Why, in numbers:

* cost: a moving cursor over a static screen would otherwise make every frame a
  changed frame (grab, compare, convert and encode 1080p up to 30 times a second for a
  32-pixel sprite); as messages it is at most 30 x ~80 bytes a second, nothing while it
  rests, and the sprite itself once per shape;
* latency: a message is one data-channel hop (the console's round-trip figure / 2),
  not capture + encode + jitter buffer + decode, and the cursor stays sharp at any
  scaling and bitrate;
* pausing: while the customer pauses nothing is sent at all (the console hides the
  cursor when told ``sharing_state`` paused); after resuming the position and, if it
  changed meanwhile, the shape are sent again.

:class:`CursorFeed` decides: a ``cursor`` only when the position, the shared area or
the visibility changed, at most ``max_rate_hz`` a second with the last position of a
burst always sent (trailing edge), and a ``cursor_shape`` before the first ``cursor``
that shows a new shape. The glue (:mod:`agent.session`) samples the screen source,
asks :meth:`CursorFeed.wants_image` whether to read the picture, and sends what the
feed returns.
"""

from __future__ import annotations

import dataclasses
import logging

from agent.capture.cursor_image import CursorImage, fit_cursor
from protocol import MAX_CURSOR_SIZE, Cursor, CursorShape, ProtocolError

__all__ = ["CursorFeed", "CursorSample"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CursorSample:
    """One reading of the cursor.

    ``position`` is normalised to the shared area like a ``pointer`` message, or
    ``None`` when the cursor is outside it (or cannot be read); ``monitor`` is the
    shared area's index; ``serial`` identifies the shape (``None``: unknown).
    """

    position: tuple[float, float] | None
    monitor: int
    serial: int | None = None


class CursorFeed:
    """Change filter, rate limit and shape bookkeeping; the caller supplies ``now`` (seconds)."""

    def __init__(self, max_rate_hz: float = 30.0) -> None:
        if max_rate_hz <= 0:
            raise ValueError("max_rate_hz must be positive")
        self.interval = 1.0 / max_rate_hz
        self._paused = False
        self._last_sent: Cursor | None = None
        self._last_time: float | None = None
        self._pending: Cursor | None = None
        self._serial: int | None = None
        """The serial of the shape the console has (or of one that could not be sent)."""
        self._shape_id = 0
        """The id the next ``cursor`` names (0: no shape, the console draws an arrow)."""
        self._ids = 0
        self.moves_sent = 0
        self.shapes_sent = 0

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def last_sent(self) -> Cursor | None:
        return self._last_sent

    def pause(self) -> None:
        """Sharing paused: nothing goes out until :meth:`resume`."""
        self._paused = True
        self._pending = None

    def resume(self) -> None:
        """Sharing resumed: the next sample is sent whatever it is (the console hid the cursor)."""
        self._paused = False
        self._last_sent = None
        self._pending = None

    def wants_image(self, serial: int | None) -> bool:
        """Whether the picture of shape ``serial`` must be read and passed to :meth:`shape`."""
        return not self._paused and serial is not None and serial != self._serial

    def shape(self, image: CursorImage) -> CursorShape | None:
        """The message for a new shape (sent before the next ``cursor``), or None if it
        cannot be sent; either way the shape is not asked for again until it changes."""
        self._serial = image.serial
        # The next cursor names the new shape (or none) even if the position did not change.
        self._last_sent = None
        self._shape_id = 0
        fitted = fit_cursor(image, MAX_CURSOR_SIZE)
        try:
            message = CursorShape.from_pixels(
                id=self._ids % (2**31 - 1) + 1,
                width=fitted.width,
                height=fitted.height,
                pixels=fitted.rgba,
                hot_x=fitted.hot_x,
                hot_y=fitted.hot_y,
                scale=min(8.0, fitted.scale),
            )
        except ProtocolError as exc:
            logger.warning("cursor shape not sent: %s", exc.detail)
            return None
        self._ids = self._shape_id = message.id
        self.shapes_sent += 1
        return message

    def update(self, sample: CursorSample, now: float) -> Cursor | None:
        """A new reading: the message to send now, or None (unchanged, paused or held back)."""
        if self._paused:
            return None
        if sample.position is None:
            message = Cursor(visible=False, monitor=sample.monitor, shape=self._shape_id)
        else:
            # Six decimals still name the exact pixel of a screen 100,000 pixels wide,
            # and keep the message near 80 bytes.
            x, y = (round(min(max(v, 0.0), 1.0), 6) for v in sample.position)
            message = Cursor(x=x, y=y, monitor=sample.monitor, shape=self._shape_id)
        if message == self._last_sent:
            self._pending = None
            return None
        if self._last_time is None or now - self._last_time >= self.interval:
            return self._sent(message, now)
        self._pending = message
        return None

    def due_in(self, now: float) -> float | None:
        """Seconds until the held-back message may go, or None when nothing is held back."""
        if self._pending is None or self._paused:
            return None
        last = self._last_time if self._last_time is not None else now
        return max(0.0, last + self.interval - now)

    def flush(self, now: float) -> Cursor | None:
        """The held-back message, if its time has come."""
        due = self.due_in(now)
        if due is None or due > 0:
            return None
        assert self._pending is not None
        return self._sent(self._pending, now)

    def _sent(self, message: Cursor, now: float) -> Cursor:
        self._last_sent = message
        self._last_time = now
        self._pending = None
        self.moves_sent += 1
        return message
