"""Keep the agent's own on-screen windows out of the shared picture.

Windows 10 2004+ can do it properly: ``SetWindowDisplayAffinity(hwnd,
WDA_EXCLUDEFROMCAPTURE)`` removes a window from every screen capture (GDI
BitBlt as used by mss, DXGI duplication, Windows.Graphics.Capture) while it
stays visible on the monitor. Older builds fail that call; we then leave the
window as it is (``WDA_MONITOR`` would show a black box instead, which hides
more of the customer's screen from the operator than the overlay itself).

X11 has no such property: the capture reads the composited screen, in which
the overlay pixels have replaced whatever was underneath, and nothing keeps
the pixels below. The agent therefore lets its overlays appear in the stream on
X11 (and on old Windows); docs/agent-ui.md explains why this is the better of
the available trade-offs.

The X11 helper :func:`x11_compositing_active` tells whether a compositing
manager runs, because translucent windows only blend with one; without it the
overlays switch to shaped (masked) windows that are opaque but not boxy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

__all__ = ["WDA_EXCLUDEFROMCAPTURE", "exclude_from_capture", "x11_compositing_active"]

logger = logging.getLogger(__name__)

WDA_NONE = 0x00
WDA_EXCLUDEFROMCAPTURE = 0x11


def exclude_from_capture(widget: QWidget) -> bool:
    """Exclude this top-level window from screen capture; True if the OS did it.

    Call after the native window exists (``winId()`` creates it) and before it is shown.
    """
    if sys.platform == "win32":
        return _exclude_win32(int(widget.winId()))
    else:
        return False


if sys.platform == "win32":

    def _exclude_win32(hwnd: int) -> bool:
        from ctypes import wintypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        set_affinity = user32.SetWindowDisplayAffinity
        set_affinity.argtypes = [wintypes.HWND, wintypes.DWORD]
        set_affinity.restype = wintypes.BOOL
        if set_affinity(wintypes.HWND(hwnd), wintypes.DWORD(WDA_EXCLUDEFROMCAPTURE)):
            return True
        # ERROR_INVALID_PARAMETER (87) on Windows 10 before 2004.
        logger.info("SetWindowDisplayAffinity failed (error %d): stays capturable", ctypes.get_last_error())
        return False


_compositing: bool | None = None


def x11_compositing_active(display: str | None = None) -> bool:
    """True when an X11 compositing manager owns ``_NET_WM_CM_S<screen>`` (or off X11).

    Cached: a compositor starting or stopping while the agent runs is rare and
    only costs translucency, never correctness.
    """
    if sys.platform == "win32":
        return True  # DWM always composites
    elif sys.platform == "darwin":
        return True  # so does Quartz
    else:
        return _x11_compositing(display)


def _x11_compositing(display: str | None) -> bool:
    global _compositing
    if _compositing is not None and display is None:
        return _compositing
    name = ctypes.util.find_library("X11")
    if name is None:
        return False
    try:
        xlib = ctypes.CDLL(name)
    except OSError:
        return False
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
    xlib.XDefaultScreen.restype = ctypes.c_int
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    xlib.XGetSelectionOwner.restype = ctypes.c_ulong
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.restype = ctypes.c_int
    dpy = xlib.XOpenDisplay(display.encode() if display else None)
    if not dpy:
        return False
    try:
        screen = xlib.XDefaultScreen(dpy)
        atom = xlib.XInternAtom(dpy, f"_NET_WM_CM_S{screen}".encode(), 0)
        active = bool(xlib.XGetSelectionOwner(dpy, atom))
    finally:
        xlib.XCloseDisplay(dpy)
    if display is None:
        _compositing = active
    logger.info("X11 compositing manager: %s", "running" if active else "none")
    return active
