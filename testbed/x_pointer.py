"""Moving the real X pointer, as the customer's hand on the mouse would.

``WarpPointer`` is core X11: the server moves its pointer, sends the motion events
and changes the cursor to the shape of the window under it, exactly as for a
physical mouse (XTest would do the same through an extension). Through XCB
(:mod:`agent.capture.xcb`), so a vanished display raises instead of exiting.
"""

from __future__ import annotations

import ctypes

from agent.capture.xcb import XcbConnection, XcbCookie

__all__ = ["XPointer"]


class XPointer:
    """The pointer of X display ``display`` (default ``$DISPLAY``)."""

    def __init__(self, display: str | None = None) -> None:
        self._xcb = XcbConnection(display)
        lib = self._xcb.lib
        lib.xcb_warp_pointer_checked.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_uint32,
            ctypes.c_int16,
            ctypes.c_int16,
            ctypes.c_uint16,
            ctypes.c_uint16,
            ctypes.c_int16,
            ctypes.c_int16,
        ]
        lib.xcb_warp_pointer_checked.restype = XcbCookie

    def move(self, x: int, y: int) -> None:
        """Put the pointer at root position (x, y); returns once the server did it."""
        conn = self._xcb.conn
        if conn is None or self._xcb.broken:
            raise OSError("the X display is gone")
        cookie = self._xcb.lib.xcb_warp_pointer_checked(conn, 0, self._xcb.root, 0, 0, 0, 0, x, y)
        failed = self._xcb.lib.xcb_request_check(conn, cookie)
        if failed:
            self._xcb.free(failed)
            raise OSError(f"WarpPointer to {x},{y} failed")

    def close(self) -> None:
        self._xcb.close()

    def __enter__(self) -> XPointer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
