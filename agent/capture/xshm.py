"""X11 grabs through MIT-SHM into one reused shared-memory segment (Linux only).

mss also grabs with ``XShmGetImage``, but then copies the segment into a new
``bytearray`` for every grab: 33 MB a frame on a 3840x2160 screen, before anything
looks at the pixels. :class:`XShmSource` asks the X server to write the shared area
into a segment it keeps for its lifetime and reads the pixels straight from there:
a large screen is shrunk out of the segment (:mod:`agent.capture.downscale`, 8 MB
written instead of 33 MB copied and then read again).

A picture kept at full size (1080p, 1440p) is grabbed by mss as before: it has to
be copied out of the segment once anyway, because a :class:`CapturedFrame` must own
its pixels (the next grab overwrites the segment), so the segment saves nothing
there; and in the 1440p benchmark runs the segment path measured no better than
mss (docs/performance.md, "Large screens").

The segment is a ``memfd`` handed to the server with ``xcb_shm_attach_fd``
(MIT-SHM 1.2, every X.Org server since 2013), mapped read-only here, grown when a
larger area is selected. It needs a local X server: over a remote connection (ssh
forwarding) the attach fails, the constructor raises ``OSError``, and the factory
(:func:`agent.capture.create_source`) falls back to :class:`MssSource`. Everything
else - monitors, the cursor, the change notifier, shrinking - is
:class:`MssSource`'s. Needs ``libxcb-shm`` (Debian ``libxcb-shm0``).
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import sys
import threading

import numpy as np
import numpy.typing as npt

from protocol import MonitorInfo

from .base import CapturedFrame, CaptureError
from .downscale import DEFAULT_MIN_PICTURE, downscale_factor
from .mss_backend import MssSource
from .xcb import XcbConnection, XcbCookie, XcbExtensionReply, load_library

__all__ = ["ShmSegmentGrabber", "XShmSource"]

logger = logging.getLogger(__name__)

_Z_PIXMAP = 2
_ALL_PLANES = 0xFFFFFFFF
_MIN_VERSION = (1, 2)
"""``ShmAttachFd`` came with MIT-SHM 1.2."""


class _ShmQueryVersionReply(ctypes.Structure):
    # xcb_shm_query_version_reply_t
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("shared_pixmaps", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("major_version", ctypes.c_uint16),
        ("minor_version", ctypes.c_uint16),
    ]


class _ShmGetImageReply(ctypes.Structure):
    # xcb_shm_get_image_reply_t
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("depth", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("visual", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
    ]


def _new_segment(size: int) -> tuple[int, mmap.mmap]:
    """An anonymous file of ``size`` bytes (Linux's ``memfd_create``) and its read-only map."""
    if sys.platform == "linux":
        fd = os.memfd_create("madoguchi-grab", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, size)
            return fd, mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
        except OSError:
            os.close(fd)
            raise
    else:
        raise OSError("MIT-SHM grabs need Linux's memfd_create")


class ShmSegmentGrabber:
    """One XCB connection and one shared-memory segment; grabs areas of the root window.

    ``OSError`` from the constructor when the display, ``libxcb-shm`` or MIT-SHM >= 1.2
    is missing. :meth:`grab` returns a read-only view of the segment, valid until the
    next grab or :meth:`close`. Not thread-safe: the caller serialises.
    """

    def __init__(self, display: str | None = None) -> None:
        self._xcb = XcbConnection(display)
        self._segment: int | None = None
        self._buffer: mmap.mmap | None = None
        self._capacity = 0
        try:
            self._setup()
        except BaseException:
            self._xcb.close()
            raise

    def _setup(self) -> None:
        self._lib = lib = load_library("xcb-shm")
        vp = ctypes.c_void_p
        lib.xcb_shm_query_version.argtypes = [vp]
        lib.xcb_shm_query_version.restype = XcbCookie
        lib.xcb_shm_query_version_reply.argtypes = [vp, XcbCookie, ctypes.POINTER(vp)]
        lib.xcb_shm_query_version_reply.restype = ctypes.POINTER(_ShmQueryVersionReply)
        lib.xcb_shm_attach_fd_checked.argtypes = [vp, ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint8]
        lib.xcb_shm_attach_fd_checked.restype = XcbCookie
        lib.xcb_shm_detach.argtypes = [vp, ctypes.c_uint32]
        lib.xcb_shm_detach.restype = XcbCookie
        lib.xcb_shm_get_image.argtypes = [
            vp,
            ctypes.c_uint32,  # drawable
            ctypes.c_int16,  # x
            ctypes.c_int16,  # y
            ctypes.c_uint16,  # width
            ctypes.c_uint16,  # height
            ctypes.c_uint32,  # plane mask
            ctypes.c_uint8,  # format
            ctypes.c_uint32,  # shmseg
            ctypes.c_uint32,  # offset
        ]
        lib.xcb_shm_get_image.restype = XcbCookie
        lib.xcb_shm_get_image_reply.argtypes = [vp, XcbCookie, ctypes.POINTER(vp)]
        lib.xcb_shm_get_image_reply.restype = ctypes.POINTER(_ShmGetImageReply)
        conn = self._xcb.conn
        extension = self._xcb.lib.xcb_get_extension_data(
            conn, ctypes.addressof(ctypes.c_char.in_dll(lib, "xcb_shm_id"))
        )
        if not extension or not XcbExtensionReply.from_address(extension).present:
            raise OSError("X server has no MIT-SHM extension")
        error = vp()
        reply = lib.xcb_shm_query_version_reply(conn, lib.xcb_shm_query_version(conn), ctypes.byref(error))
        self._xcb.free(error.value)
        if not reply:
            raise OSError("MIT-SHM version query failed")
        version = (int(reply.contents.major_version), int(reply.contents.minor_version))
        self._xcb.free(reply)
        if version < _MIN_VERSION:
            raise OSError(f"MIT-SHM {version[0]}.{version[1]} has no ShmAttachFd (need 1.2)")

    def _ensure_capacity(self, size: int) -> None:
        if size <= self._capacity:
            return
        self.release_segment()
        fd, buffer = _new_segment(size)
        conn = self._xcb.conn
        segment = int(self._xcb.lib.xcb_generate_id(conn))
        # XCB sends the descriptor with the request and closes it, success or not.
        failed = self._xcb.lib.xcb_request_check(
            conn, self._lib.xcb_shm_attach_fd_checked(conn, segment, fd, 0)
        )
        if failed:
            self._xcb.free(failed)
            buffer.close()
            raise OSError("the X server refused the shared-memory segment (a remote display?)")
        self._segment, self._buffer, self._capacity = segment, buffer, size
        logger.debug("MIT-SHM segment 0x%x of %d bytes attached", segment, size)

    def grab(self, x: int, y: int, width: int, height: int) -> npt.NDArray[np.uint8]:
        """The root window's pixels in that rectangle as a read-only (H, W, 4) BGRA view
        of the segment; ``OSError`` when the server does not deliver them."""
        if self._xcb.broken:
            raise OSError("the X connection is closed or broken")
        size = width * height * 4
        self._ensure_capacity(size)
        conn = self._xcb.conn
        error = ctypes.c_void_p()
        reply = self._lib.xcb_shm_get_image_reply(
            conn,
            self._lib.xcb_shm_get_image(
                conn, self._xcb.root, x, y, width, height, _ALL_PLANES, _Z_PIXMAP, self._segment, 0
            ),
            ctypes.byref(error),
        )
        self._xcb.free(error.value)
        if not reply:
            raise OSError(f"ShmGetImage of {width}x{height}+{x}+{y} failed")
        depth, returned = int(reply.contents.depth), int(reply.contents.size)
        self._xcb.free(reply)
        if depth not in (24, 32) or returned != size:
            raise OSError(f"ShmGetImage returned depth {depth}, {returned} bytes: not 32-bit BGRX")
        assert self._buffer is not None  # set by _ensure_capacity
        image = np.frombuffer(self._buffer, dtype=np.uint8, count=size).reshape(height, width, 4)
        image.flags.writeable = False
        return image

    def release_segment(self) -> None:
        """Detach and unmap the segment (the next grab attaches a new one)."""
        segment, self._segment = self._segment, None
        buffer, self._buffer = self._buffer, None
        self._capacity = 0
        if segment is not None and not self._xcb.broken:
            self._lib.xcb_shm_detach(self._xcb.conn, segment)
            self._xcb.lib.xcb_flush(self._xcb.conn)
        if buffer is not None:
            try:
                buffer.close()
            except BufferError:
                # A view of the old segment is still alive somewhere: leave the mapping to
                # the garbage collector rather than pulling the pages from under it.
                logger.debug("old MIT-SHM segment still viewed: unmapped when released")

    def close(self) -> None:
        """Detach the segment and disconnect; idempotent."""
        self.release_segment()
        self._xcb.close()


class XShmSource(MssSource):
    """:class:`MssSource` with the grabs of large screens through :class:`ShmSegmentGrabber`.

    The constructor makes one grab of the primary monitor and raises ``OSError`` (after
    releasing everything) if MIT-SHM does not work on this display, so the caller can
    fall back to :class:`MssSource`. Grabs from several threads share the one segment
    under a lock (the agent grabs from its grabber thread only).
    """

    def __init__(
        self, display: str | None = None, *, min_picture: tuple[int, int] | None = DEFAULT_MIN_PICTURE
    ) -> None:
        super().__init__(display, min_picture=min_picture)
        self._shm_lock = threading.RLock()
        try:
            self._shm: ShmSegmentGrabber | None = ShmSegmentGrabber(display)
            area = self.selected
            self._shm.grab(area.x, area.y, area.width, area.height)
            if downscale_factor(area.width, area.height, min_picture) == 1:
                self._shm.release_segment()  # grabbed by mss at this size: keep no memory for it
        except BaseException:
            shm = getattr(self, "_shm", None)
            if shm is not None:
                shm.close()
            self._shm = None
            super().close()
            raise
        logger.info("grabbing through MIT-SHM (one reused segment)")

    def _grab_pixels(self, area: MonitorInfo) -> tuple[npt.NDArray[np.uint8], bool]:
        if downscale_factor(area.width, area.height, self._min_picture) == 1:
            return super()._grab_pixels(area)  # kept at full size: see the module docstring
        with self._shm_lock:
            shm = self._shm
            if shm is None:
                raise CaptureError("the screen source is closed", operation="grab")
            try:
                return shm.grab(area.x, area.y, area.width, area.height), False
            except OSError as exc:
                raise CaptureError(f"grab failed: {exc}", operation="grab") from exc

    def grab(self) -> CapturedFrame:
        # The shrink out of the segment must finish before another grab reuses it.
        with self._shm_lock:
            return super().grab()

    def close(self) -> None:
        with self._shm_lock:
            shm, self._shm = self._shm, None
        if shm is not None:
            shm.close()
        super().close()
