"""Where the mouse pointer is, in desktop coordinates (physical pixels), per OS.

mss grabs do not contain the cursor on X11 (XShm) nor on Windows (BitBlt), so the
position is read separately and sent alongside each frame.

* X11: ``xcb_query_pointer`` through ctypes on a private XCB connection. XCB rather
  than Xlib's ``XQueryPointer`` because Xlib's default I/O error handler calls
  ``exit()`` when the X server goes away, which would kill the agent (or a test run)
  instead of raising; with XCB a dead connection just yields no reply.
* Windows: ``GetCursorPos``. mss makes the process per-monitor DPI aware, so the
  position is in physical pixels like the grabs.
* Elsewhere: unknown (``None``).
"""

from __future__ import annotations

import abc
import ctypes
import ctypes.util
import logging
import sys
import threading

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


class _XcbScreen(ctypes.Structure):
    # Only the first field of xcb_screen_t is needed: the root window.
    _fields_ = [("root", ctypes.c_uint32)]


class _XcbScreenIterator(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.POINTER(_XcbScreen)),
        ("rem", ctypes.c_int),
        ("index", ctypes.c_int),
    ]


class _XcbCookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class X11CursorReader(CursorReader):
    """``xcb_query_pointer`` on the root window of the display's default screen."""

    def __init__(self, display: str | None = None) -> None:
        name = ctypes.util.find_library("xcb")
        libc_name = ctypes.util.find_library("c")
        if name is None or libc_name is None:
            raise OSError("libxcb not found")
        self._lib = xcb = ctypes.CDLL(name)
        self._libc = ctypes.CDLL(libc_name)
        self._libc.free.argtypes = [ctypes.c_void_p]
        self._libc.free.restype = None
        xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
        xcb.xcb_connect.restype = ctypes.c_void_p
        xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
        xcb.xcb_connection_has_error.restype = ctypes.c_int
        xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
        xcb.xcb_disconnect.restype = None
        xcb.xcb_get_setup.argtypes = [ctypes.c_void_p]
        xcb.xcb_get_setup.restype = ctypes.c_void_p
        xcb.xcb_setup_roots_iterator.argtypes = [ctypes.c_void_p]
        xcb.xcb_setup_roots_iterator.restype = _XcbScreenIterator
        xcb.xcb_screen_next.argtypes = [ctypes.POINTER(_XcbScreenIterator)]
        xcb.xcb_screen_next.restype = None
        xcb.xcb_query_pointer.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        xcb.xcb_query_pointer.restype = _XcbCookie
        xcb.xcb_query_pointer_reply.argtypes = [ctypes.c_void_p, _XcbCookie, ctypes.POINTER(ctypes.c_void_p)]
        xcb.xcb_query_pointer_reply.restype = ctypes.POINTER(_XcbQueryPointerReply)

        screen_num = ctypes.c_int(0)
        conn = xcb.xcb_connect(display.encode() if display else None, ctypes.byref(screen_num))
        if not conn or xcb.xcb_connection_has_error(conn):
            if conn:
                xcb.xcb_disconnect(conn)
            raise OSError(f"cannot connect to X display {display or '$DISPLAY'}")
        self._conn: int | None = conn
        it = xcb.xcb_setup_roots_iterator(xcb.xcb_get_setup(conn))
        for _ in range(screen_num.value):
            xcb.xcb_screen_next(ctypes.byref(it))
        self._root = int(it.data.contents.root)
        # One request in flight at a time on our connection; callers may be on any thread.
        self._lock = threading.Lock()

    def position(self) -> tuple[int, int] | None:
        with self._lock:
            conn = self._conn
            if conn is None or self._lib.xcb_connection_has_error(conn):
                return None
            cookie = self._lib.xcb_query_pointer(conn, self._root)
            # Collect the error ourselves: with a NULL error pointer XCB would queue it as
            # an event that nobody reads.
            error = ctypes.c_void_p()
            reply = self._lib.xcb_query_pointer_reply(conn, cookie, ctypes.byref(error))
            if error.value:
                self._libc.free(error)
            if not reply:
                return None
            try:
                data = reply.contents
                if not data.same_screen:
                    return None
                return int(data.root_x), int(data.root_y)
            finally:
                self._libc.free(ctypes.cast(reply, ctypes.c_void_p))

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                self._lib.xcb_disconnect(conn)


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
