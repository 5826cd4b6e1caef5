"""The customer's mouse cursor as the console knows it: no Qt, no I/O.

The agent sends ``cursor`` (position) and ``cursor_shape`` (picture) messages on the
guidance channel (why not painted into the video: :mod:`agent.cursor_feed`).
:class:`RemoteCursor` folds them, with ``sharing_state`` and ``monitors``, into one
immutable :class:`CursorState` that the view draws. It lives on the network thread
and the UI reads :attr:`RemoteCursor.state` from its frame timer: latest value wins,
so a burst of moves never queues up behind a busy UI, and replacing one reference
is atomic, so no lock is needed.

The cursor is hidden while sharing is paused (and stays hidden after resuming until
the agent says where it is), when the agent says it left the shared area, and when
it names another area than the one being shared.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from protocol import Cursor, CursorShape, Monitors, SharingState, cursor_pixels

__all__ = ["CursorState", "RemoteCursor", "ShapePicture"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ShapePicture:
    """A decoded ``cursor_shape``: ``rgba`` is ``width * height * 4`` straight-alpha bytes."""

    id: int
    width: int
    height: int
    hot_x: int
    hot_y: int
    scale: float
    rgba: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class CursorState:
    """What to draw: ``visible`` at normalised (``x``, ``y``) of the shared picture, with
    ``shape`` (``None``: no picture known, draw an arrow). ``area_width`` is the shared
    area's width in the customer's screen pixels when known (the shape is in screen
    pixels; the video may be smaller). ``version`` grows on each change."""

    visible: bool = False
    x: float = 0.0
    y: float = 0.0
    shape: ShapePicture | None = None
    version: int = 0
    area_width: int | None = None


class RemoteCursor:
    """Folds the agent's messages into :attr:`state`; ``on_change`` sees every new state."""

    def __init__(self, on_change: Callable[[CursorState], None] | None = None) -> None:
        self.on_change = on_change
        self.state = CursorState()
        self._shape: ShapePicture | None = None
        self._last: Cursor | None = None
        self._paused = False
        self._active: int | None = None
        self._area_width: int | None = None
        self.moves_received = 0
        self.shapes_received = 0

    def apply(self, message: Cursor | CursorShape | SharingState | Monitors) -> None:
        if isinstance(message, CursorShape):
            self.shapes_received += 1
            # Construction already proved the pixels inflate to the right size.
            self._shape = ShapePicture(
                id=message.id,
                width=message.width,
                height=message.height,
                hot_x=message.hot_x,
                hot_y=message.hot_y,
                scale=message.scale,
                rgba=cursor_pixels(message),
            )
            return  # drawn from the next cursor message, which names it
        if isinstance(message, Cursor):
            self.moves_received += 1
            self._last = message
        elif isinstance(message, SharingState):
            self._paused = message.paused
            # After resuming, the position from before the pause is stale: wait for a new one.
            self._last = None
        elif isinstance(message, Monitors):
            self._active = message.active
            self._area_width = _area_width(message)
        self._publish()

    def reset(self) -> None:
        """A new session: forget everything."""
        self._shape = None
        self._last = None
        self._paused = False
        self._active = None
        self._area_width = None
        self._set(CursorState(version=self.state.version + 1))

    def _publish(self) -> None:
        last = self._last
        visible = (
            last is not None
            and last.visible
            and not self._paused
            and (self._active is None or last.monitor == self._active)
        )
        if not visible or last is None:
            if self.state.visible:
                self._set(CursorState(version=self.state.version + 1))
            return
        shape = self._shape if self._shape is not None and self._shape.id == last.shape else None
        self._set(CursorState(True, last.x, last.y, shape, self.state.version + 1, self._area_width))

    def _set(self, state: CursorState) -> None:
        self.state = state
        if self.on_change is not None:
            try:
                self.on_change(state)
            except Exception:
                logger.exception("cursor change handler failed")


def _area_width(monitors: Monitors) -> int | None:
    """The shared area's width in screen pixels: one monitor, or all of them (index n)."""
    if monitors.active == len(monitors.monitors) and monitors.monitors:
        return max(m.x + m.width for m in monitors.monitors) - min(m.x for m in monitors.monitors)
    return next((m.width for m in monitors.monitors if m.index == monitors.active), None)
