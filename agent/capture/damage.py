"""Being told that the screen changed, instead of grabbing it to find out.

A grabber that grabs 30 times a second and compares costs 8-10 % of a core on a
static 1080p screen (grab ~2 ms, full compare ~1 ms, per frame). A
:class:`ChangeNotifier` lets it sleep until the OS says something was drawn:

* X11: the DAMAGE extension on the root window (through XCB, :mod:`agent.capture.xcb`),
  at report level *non-empty*: one event when the damaged region goes from empty to
  non-empty, re-armed by ``DamageSubtract``. Rendering into any window (core
  drawing, XShm, GL through the server) damages the root's region. Needs
  ``libxcb-damage`` (Debian ``libxcb-damage0``).
* Windows (later): DXGI Desktop Duplication's ``AcquireNextFrame`` blocks until the
  desktop changes and returns the dirty rectangles; until then Windows grabs on a timer.
* Elsewhere: no notifier; the grabber grabs on its timer and compares.

The grabber still grabs once in a while without an event (see ``Grabber``), so a kind
of drawing that escapes DAMAGE (hardware video overlays) is seen late, not never.
"""

from __future__ import annotations

import abc
import ctypes
import logging
import select
import sys

from .xcb import XcbConnection, XcbCookie, XcbExtensionReply, load_library

__all__ = ["ChangeNotifier", "X11DamageNotifier", "create_change_notifier"]

logger = logging.getLogger(__name__)

_DAMAGE_REPORT_LEVEL_NON_EMPTY = 3
_DAMAGE_NOTIFY = 0  # event number relative to the extension's first event


class ChangeNotifier(abc.ABC):
    """Waits until the screen may have changed. Used from one thread (the grabber's)."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> bool:
        """True as soon as something was drawn since the previous True (re-arming the
        notification before returning, so drawing that follows wakes the next call);
        False after ``timeout`` seconds without a change."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release OS resources; idempotent."""


class X11DamageNotifier(ChangeNotifier):
    """DAMAGE on the root window of ``display``; OSError if the extension is unavailable."""

    def __init__(self, display: str | None = None) -> None:
        self._xcb = XcbConnection(display)
        try:
            self._setup()
        except BaseException:
            self._xcb.close()
            raise

    def _setup(self) -> None:
        xcb = self._xcb.lib
        self._damage_lib = lib = load_library("xcb-damage")
        lib.xcb_damage_query_version.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
        lib.xcb_damage_query_version.restype = XcbCookie
        lib.xcb_damage_query_version_reply.argtypes = [
            ctypes.c_void_p,
            XcbCookie,
            ctypes.POINTER(ctypes.c_void_p),
        ]
        lib.xcb_damage_query_version_reply.restype = ctypes.c_void_p
        lib.xcb_damage_create_checked.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_uint32,
            ctypes.c_uint8,
        ]
        lib.xcb_damage_create_checked.restype = XcbCookie
        lib.xcb_damage_subtract_checked.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_uint32,
            ctypes.c_uint32,
        ]
        lib.xcb_damage_subtract_checked.restype = XcbCookie
        lib.xcb_damage_destroy.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.xcb_damage_destroy.restype = XcbCookie
        conn = self._xcb.conn
        extension = xcb.xcb_get_extension_data(
            conn, ctypes.addressof(ctypes.c_char.in_dll(lib, "xcb_damage_id"))
        )
        if not extension:
            raise OSError("X server did not answer the DAMAGE query")
        reply = XcbExtensionReply.from_address(extension)
        if not reply.present:
            raise OSError("X server has no DAMAGE extension")
        self._first_event = int(reply.first_event)
        # The version handshake is mandatory before any other DAMAGE request.
        error = ctypes.c_void_p()
        version = lib.xcb_damage_query_version_reply(
            conn, lib.xcb_damage_query_version(conn, 1, 1), ctypes.byref(error)
        )
        self._xcb.free(error.value)
        if not version:
            raise OSError("DAMAGE version query failed")
        self._xcb.free(version)
        self._damage = int(xcb.xcb_generate_id(conn))
        failed = xcb.xcb_request_check(
            conn,
            lib.xcb_damage_create_checked(conn, self._damage, self._xcb.root, _DAMAGE_REPORT_LEVEL_NON_EMPTY),
        )
        if failed:
            self._xcb.free(failed)
            raise OSError("DamageCreate on the root window failed")
        self._fd = int(xcb.xcb_get_file_descriptor(conn))
        logger.debug("X DAMAGE watching root 0x%x (first event %d)", self._xcb.root, self._first_event)

    def _drain(self) -> bool:
        """Read every queued event; True if one was a damage notification."""
        damaged = False
        conn = self._xcb.conn
        while True:
            event = self._xcb.lib.xcb_poll_for_event(conn)
            if not event:
                return damaged
            if event[0] & 0x7F == self._first_event + _DAMAGE_NOTIFY:
                damaged = True
            self._xcb.free(event)

    def _rearm(self) -> None:
        # Checked request + reply check = a round trip: once it returns, the server has
        # emptied the region, so anything drawn from now on raises a new event, and a grab
        # requested after this (on mss's own connection) sees everything drawn before.
        conn = self._xcb.conn
        lib = self._damage_lib
        failed = self._xcb.lib.xcb_request_check(
            conn, lib.xcb_damage_subtract_checked(conn, self._damage, 0, 0)
        )
        self._xcb.free(failed)

    def wait(self, timeout: float) -> bool:
        if self._xcb.broken:
            # The display is gone: report "changed" so the grab runs and raises its own error.
            return True
        if not self._drain():
            try:
                readable, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
            except (OSError, ValueError):
                return True
            if not readable or not self._drain():
                return self._xcb.broken
        self._rearm()
        return True

    def close(self) -> None:
        if self._xcb.conn is not None and not self._xcb.broken:
            conn = self._xcb.conn
            self._damage_lib.xcb_damage_destroy(conn, self._damage)
            self._xcb.lib.xcb_flush(conn)
        self._xcb.close()


def create_change_notifier(display: str | None = None) -> ChangeNotifier | None:
    """The notifier for this OS and display, or None (grab on a timer) when there is none."""
    notifier: ChangeNotifier | None = None
    if sys.platform.startswith("linux"):
        try:
            notifier = X11DamageNotifier(display)
        except OSError as exc:
            logger.warning("screen change notifications unavailable (%s): grabbing on a timer", exc)
    return notifier
