"""A private XCB connection through ctypes, shared by the X11 cursor reader, the damage
watcher and the MIT-SHM grab.

XCB rather than Xlib because Xlib's default I/O error handler calls ``exit()`` when
the X server goes away, which would kill the agent (or a test run) instead of
raising; with XCB a dead connection just yields no reply (``has_error``).
Only the few calls Madoguchi needs are declared.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Any

__all__ = ["XcbConnection", "XcbCookie", "XcbExtensionReply", "load_library"]

logger = logging.getLogger(__name__)


class _XcbScreen(ctypes.Structure):
    # Only the first field of xcb_screen_t is needed: the root window.
    _fields_ = [("root", ctypes.c_uint32)]


class _XcbScreenIterator(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.POINTER(_XcbScreen)),
        ("rem", ctypes.c_int),
        ("index", ctypes.c_int),
    ]


class XcbCookie(ctypes.Structure):
    """``xcb_*_cookie_t``: every cookie type is one unsigned sequence number."""

    _fields_ = [("sequence", ctypes.c_uint)]


class XcbExtensionReply(ctypes.Structure):
    """``xcb_query_extension_reply_t``, as ``xcb_get_extension_data`` returns it (owned by XCB)."""

    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("pad0", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("present", ctypes.c_uint8),
        ("major_opcode", ctypes.c_uint8),
        ("first_event", ctypes.c_uint8),
        ("first_error", ctypes.c_uint8),
    ]


def load_library(name: str) -> ctypes.CDLL:
    """``ctypes.CDLL`` of ``lib<name>``; OSError if it is not installed."""
    path = ctypes.util.find_library(name)
    if path is None:
        raise OSError(f"lib{name} not found")
    return ctypes.CDLL(path)


class XcbConnection:
    """One XCB connection to ``display`` (default ``$DISPLAY``) and its default screen's root.

    Not thread-safe by itself: each user serialises its own requests.
    """

    def __init__(self, display: str | None = None) -> None:
        self.lib = xcb = load_library("xcb")
        libc = load_library("c")
        self._free = libc.free
        self._free.argtypes = [ctypes.c_void_p]
        self._free.restype = None
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
        xcb.xcb_flush.argtypes = [ctypes.c_void_p]
        xcb.xcb_flush.restype = ctypes.c_int
        xcb.xcb_generate_id.argtypes = [ctypes.c_void_p]
        xcb.xcb_generate_id.restype = ctypes.c_uint32
        xcb.xcb_get_file_descriptor.argtypes = [ctypes.c_void_p]
        xcb.xcb_get_file_descriptor.restype = ctypes.c_int
        xcb.xcb_poll_for_event.argtypes = [ctypes.c_void_p]
        xcb.xcb_poll_for_event.restype = ctypes.POINTER(ctypes.c_uint8)
        xcb.xcb_request_check.argtypes = [ctypes.c_void_p, XcbCookie]
        xcb.xcb_request_check.restype = ctypes.c_void_p
        xcb.xcb_get_extension_data.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        xcb.xcb_get_extension_data.restype = ctypes.c_void_p

        screen_num = ctypes.c_int(0)
        conn = xcb.xcb_connect(display.encode() if display else None, ctypes.byref(screen_num))
        if not conn or xcb.xcb_connection_has_error(conn):
            if conn:
                xcb.xcb_disconnect(conn)
            raise OSError(f"cannot connect to X display {display or '$DISPLAY'}")
        self.conn: int | None = conn
        it = xcb.xcb_setup_roots_iterator(xcb.xcb_get_setup(conn))
        for _ in range(screen_num.value):
            xcb.xcb_screen_next(ctypes.byref(it))
        self.root = int(it.data.contents.root)

    @property
    def broken(self) -> bool:
        """True once closed or once the server went away."""
        return self.conn is None or bool(self.lib.xcb_connection_has_error(self.conn))

    def free(self, pointer: Any) -> None:
        """Release a reply, error or event XCB allocated for us."""
        if pointer:
            self._free(ctypes.cast(pointer, ctypes.c_void_p))

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            self.lib.xcb_disconnect(conn)
