"""Where the mouse pointer is, in desktop coordinates (physical pixels), per OS.

mss grabs do not contain the cursor on X11 (XShm) nor on Windows (BitBlt), so the
position is read separately and sent alongside each frame.

* X11: ``xcb_query_pointer`` through ctypes on a private XCB connection
  (:mod:`agent.capture.xcb` says why XCB and not Xlib).
* Windows: ``GetCursorPos``. mss makes the process per-monitor DPI aware, so the
  position is in physical pixels like the grabs.
* Elsewhere: unknown (``None``).
"""

from __future__ import annotations

import abc
import ctypes
import logging
import sys
import threading

from .xcb import XcbConnection, XcbCookie

__all__ = ["CursorReader", "NullCursorReader", "create_cursor_reader"]

logger = logging.getLogger(__name__)


class CursorReader(abc.ABC):
    """Reads the pointer position; ``position()`` returns ``None`` when it cannot."""

    @abc.abstractmethod
    def position(self) -> tuple[int, int] | None:
        """Pointer position in desktop coordinates, or ``None``."""

    def close(self) -> None:  # noqa: B027 - most readers hold nothing
        """Release OS resources; idempotent."""


class NullCursorReader(CursorReader):
    """For platforms where we do not know how to read the pointer."""

    def position(self) -> tuple[int, int] | None:
        return None


class _XcbQueryPointerReply(ctypes.Structure):
    # Layout of xcb_query_pointer_reply_t (xproto.h); only root_x/root_y/same_screen are read.
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("same_screen", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("root", ctypes.c_uint32),
        ("child", ctypes.c_uint32),
        ("root_x", ctypes.c_int16),
        ("root_y", ctypes.c_int16),
        ("win_x", ctypes.c_int16),
        ("win_y", ctypes.c_int16),
        ("mask", ctypes.c_uint16),
        ("pad0", ctypes.c_uint8 * 2),
    ]


class X11CursorReader(CursorReader):
    """``xcb_query_pointer`` on the root window of the display's default screen."""

    def __init__(self, display: str | None = None) -> None:
        self._xcb = XcbConnection(display)
        self._lib = xcb = self._xcb.lib
        xcb.xcb_query_pointer.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        xcb.xcb_query_pointer.restype = XcbCookie
        xcb.xcb_query_pointer_reply.argtypes = [ctypes.c_void_p, XcbCookie, ctypes.POINTER(ctypes.c_void_p)]
        xcb.xcb_query_pointer_reply.restype = ctypes.POINTER(_XcbQueryPointerReply)
        self._root = self._xcb.root
        # One request in flight at a time on our connection; callers may be on any thread.
        self._lock = threading.Lock()

    def position(self) -> tuple[int, int] | None:
        with self._lock:
            conn = self._xcb.conn
            if conn is None or self._xcb.broken:
                return None
            cookie = self._lib.xcb_query_pointer(conn, self._root)
            # Collect the error ourselves: with a NULL error pointer XCB would queue it as
            # an event that nobody reads.
            error = ctypes.c_void_p()
            reply = self._lib.xcb_query_pointer_reply(conn, cookie, ctypes.byref(error))
            self._xcb.free(error.value)
            if not reply:
                return None
            try:
                data = reply.contents
                if not data.same_screen:
                    return None
                return int(data.root_x), int(data.root_y)
            finally:
                self._xcb.free(reply)

    def close(self) -> None:
        with self._lock:
            self._xcb.close()


if sys.platform == "win32":
    import ctypes.wintypes

    class WindowsCursorReader(CursorReader):
        """``GetCursorPos``; physical pixels because mss made the process DPI aware."""

        def __init__(self) -> None:
            self._get_cursor_pos = ctypes.windll.user32.GetCursorPos
            self._get_cursor_pos.argtypes = [ctypes.POINTER(ctypes.wintypes.POINT)]
            self._get_cursor_pos.restype = ctypes.wintypes.BOOL

        def position(self) -> tuple[int, int] | None:
            point = ctypes.wintypes.POINT()
            # Fails e.g. on the secure desktop (UAC prompt, lock screen): report unknown.
            if not self._get_cursor_pos(ctypes.byref(point)):
                return None
            return int(point.x), int(point.y)


def create_cursor_reader(display: str | None = None) -> CursorReader:
    """The reader for this OS; falls back to :class:`NullCursorReader` when it cannot start."""
    # One assignment per branch (no early returns) so both mypy platform passes see
    # every line as reachable.
    reader: CursorReader = NullCursorReader()
    if sys.platform == "win32":
        reader = WindowsCursorReader()
    elif sys.platform.startswith("linux"):
        try:
            reader = X11CursorReader(display)
        except OSError as exc:
            logger.warning("cursor position unavailable: %s", exc)
    return reader
