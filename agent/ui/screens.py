"""Where a capture monitor is on the Qt desktop: physical pixels to Qt's logical coordinates.

The operator's pointer arrives as a monitor index plus a position normalised to
that monitor (``protocol.Pointer``). Monitor indices are the capture backend's
(:mod:`agent.capture`): physical pixels, ``len(monitors)`` naming the whole
desktop. Overlays are Qt windows placed in Qt's *logical* coordinates, which
differ from physical pixels as soon as a monitor is scaled (125 %, 200 %,
``QT_SCALE_FACTOR``), and not in one simple way: Qt keeps each screen's origin
where the OS put it and divides only its size by the screen's device pixel
ratio (on X11 a 1280x720 monitor at x=1280, scale 2, is the logical rectangle
1280,0 640x360).

So a capture monitor is matched to the Qt screen whose size times its ratio is
the monitor's size (origin equal in either convention breaks ties), and a point
is mapped *proportionally inside that screen*. That holds whichever convention
the platform uses for screen origins and whatever each monitor's own scale is.
The pure functions take plain :class:`ScreenArea` values so tests can check
every layout without a display.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from protocol import MonitorInfo

__all__ = [
    "LogicalPoint",
    "ScreenArea",
    "guide_area",
    "guide_screen",
    "map_pointer",
    "match_screens",
    "qt_screen_areas",
    "screens_showing",
]

if TYPE_CHECKING:
    from PySide6.QtCore import QRect

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ScreenArea:
    """A Qt screen: logical geometry (``QScreen.geometry()``) and device pixel ratio."""

    x: int
    y: int
    width: int
    height: int
    ratio: float = 1.0

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclasses.dataclass(frozen=True)
class LogicalPoint:
    """A point in Qt's global logical coordinates, on screen number ``screen``."""

    screen: int
    x: float
    y: float


def _size_matches(monitor: MonitorInfo, area: ScreenArea) -> bool:
    # Qt rounds the logical size, so allow a pixel of error per unit of ratio.
    slack = area.ratio + 1.0
    return (
        abs(area.width * area.ratio - monitor.width) <= slack
        and abs(area.height * area.ratio - monitor.height) <= slack
    )


def _origin_distance(monitor: MonitorInfo, area: ScreenArea) -> float:
    kept = abs(area.x - monitor.x) + abs(area.y - monitor.y)
    scaled = abs(area.x * area.ratio - monitor.x) + abs(area.y * area.ratio - monitor.y)
    return min(kept, scaled)


def match_screens(monitors: Sequence[MonitorInfo], screens: Sequence[ScreenArea]) -> dict[int, int]:
    """Capture monitor index -> Qt screen number, for every monitor that has a screen."""
    free = set(range(len(screens)))
    result: dict[int, int] = {}
    for monitor in monitors:
        candidates = [i for i in free if _size_matches(monitor, screens[i])] or sorted(free)
        if not candidates:
            break
        best = min(candidates, key=lambda i: (_origin_distance(monitor, screens[i]), i))
        result[monitor.index] = best
        free.discard(best)
    if len(result) < len(monitors):
        logger.warning("only %d of %d monitors have a Qt screen", len(result), len(monitors))
    return result


def _containing_monitor(monitors: Sequence[MonitorInfo], x: float, y: float) -> MonitorInfo:
    def distance(m: MonitorInfo) -> float:
        dx = max(m.x - x, 0.0, x - (m.x + m.width - 1))
        dy = max(m.y - y, 0.0, y - (m.y + m.height - 1))
        return dx + dy

    return min(monitors, key=distance)


def map_pointer(
    nx: float, ny: float, monitor: int, monitors: Sequence[MonitorInfo], screens: Sequence[ScreenArea]
) -> LogicalPoint | None:
    """Where to draw a pointer at normalised (``nx``, ``ny``) of capture monitor ``monitor``.

    ``monitor == len(monitors)`` is the whole desktop. None when the monitor is unknown
    or has no Qt screen (unplugged meanwhile): better no pointer than a wrong one.
    """
    if not monitors or not 0 <= monitor <= len(monitors):
        return None
    nx, ny = min(max(nx, 0.0), 1.0), min(max(ny, 0.0), 1.0)
    if monitor == len(monitors):
        left = min(m.x for m in monitors)
        top = min(m.y for m in monitors)
        width = max(m.x + m.width for m in monitors) - left
        height = max(m.y + m.height for m in monitors) - top
        px, py = left + nx * width, top + ny * height
        target = _containing_monitor(monitors, px, py)
        nx = min(max((px - target.x) / target.width, 0.0), 1.0)
        ny = min(max((py - target.y) / target.height, 0.0), 1.0)
    else:
        target = next((m for m in monitors if m.index == monitor), monitors[0])
    screen = match_screens(monitors, screens).get(target.index)
    if screen is None:
        return None
    area = screens[screen]
    return LogicalPoint(screen, area.x + nx * area.width, area.y + ny * area.height)


def screens_showing(
    monitor: int, monitors: Sequence[MonitorInfo], screens: Sequence[ScreenArea]
) -> list[int]:
    """The Qt screens that show capture area ``monitor`` (all of them for the whole desktop)."""
    matched = match_screens(monitors, screens)
    if monitor == len(monitors):
        return sorted(matched.values())
    return [matched[monitor]] if monitor in matched else []


def guide_screen(shown: Sequence[int], pointed: int | None, cursor: int | None) -> int | None:
    """Where the keyboard guide goes among the shared screens ``shown``: the one the
    operator last pointed at, else the one with the customer's mouse, else the first.
    (With "all screens" shared the first is rarely the one being discussed.)"""
    for candidate in (pointed, cursor):
        if candidate is not None and candidate in shown:
            return candidate
    return shown[0] if shown else None


def guide_area(selected: int, monitors: Sequence[MonitorInfo], pointed: int | None) -> QRect | None:
    """The free area (``availableGeometry``) of the screen the keyboard guide goes on:
    see :func:`guide_screen`; ``pointed`` is the Qt screen of the operator's last pointer."""
    from PySide6.QtGui import QCursor, QGuiApplication

    qt_screens = QGuiApplication.screens()
    shown = [i for i in screens_showing(selected, monitors, qt_screen_areas()) if i < len(qt_screens)]
    at_cursor = QGuiApplication.screenAt(QCursor.pos())
    cursor = qt_screens.index(at_cursor) if at_cursor in qt_screens else None
    number = guide_screen(shown, pointed, cursor)
    if number is None:
        primary = QGuiApplication.primaryScreen()
        return None if primary is None else primary.availableGeometry()
    return qt_screens[number].availableGeometry()


def qt_screen_areas() -> list[ScreenArea]:
    """The running application's screens, in ``QGuiApplication.screens()`` order."""
    from PySide6.QtGui import QGuiApplication

    areas = []
    for screen in QGuiApplication.screens():
        g = screen.geometry()
        areas.append(ScreenArea(g.x(), g.y(), g.width(), g.height(), screen.devicePixelRatio()))
    return areas
