"""Shrinking a large screen's grab by a whole factor before anything else touches it.

A 3840x2160 grab is 33 MB of BGRA: four times the 1080p picture the rest of the
pipeline (change test, BGRA -> yuv420p, x264, the operator's window) is sized for.
The grab is shrunk by the largest **whole** factor that keeps the picture at least
1920x1080 (:data:`DEFAULT_MIN_PICTURE`, compared long side to long side so a
portrait screen is treated alike): 3840x2160 -> 1920x1080 (2), 7680x4320 ->
1920x1080 (4), while 2560x1440 stays as it is (1440 / 1080 < 2; the encoder's own
``max_pixels`` scaling still sends it at 1080p worth of pixels).

Why a whole factor:

* **Text stays crisp.** Each picture pixel is the mean of an exact f x f block of
  screen pixels, so a one-pixel stem of a glyph drawn at 200 % (two pixels wide)
  becomes one solid pixel, never smeared over a fractional phase that shifts from
  column to column as a 0.75 or 0.5625 ratio does.
* **The box filter is exact**: each picture pixel is the mean of exactly its own
  f x f block (libyuv's SIMD rounds in two steps, so within one level of the true
  mean), nothing bleeds in from neighbouring blocks, and it is the cheapest filter
  there is: libyuv's ``ARGBScale`` with ``kFilterBox`` shrinks a 4K frame 2:1 in
  ~1.5 ms on one core of this 2-core Xeon, reading the grab once.
* **Coordinates map by an integer.** Picture pixel (x, y) is screen pixels
  (f x .. f x + f - 1, f y .. f y + f - 1): the cursor position is divided by f,
  and the operator's pointer (normalised to the monitor, see ``protocol.Pointer``)
  lands on the same screen pixel it pointed at.

Why at least 1920x1080: such screens are laptops and monitors at 150-200 % scaling,
whose *logical* size is about 1080p (text is drawn twice as large, so at half the
pixels it is as readable as on a 1080p screen), and the operator sees the picture
in a window that is rarely larger than 1080p. Shrinking further would lose detail
the operator can see; shrinking less (a fractional factor) would blur text.

libyuv comes from the system (Debian ``libyuv0``, found by
``ctypes.util.find_library("yuv")``); without it the same box mean is taken with
numpy (within one level of it, about ten times slower: ~20 ms a 4K frame here).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from typing import cast

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_MIN_PICTURE",
    "Downscaler",
    "downscale_factor",
    "downscale_numpy",
    "downscaled_size",
    "libyuv_available",
]

logger = logging.getLogger(__name__)

DEFAULT_MIN_PICTURE = (1920, 1080)
"""The smallest picture a grab is shrunk to (long side, short side): the operator's view size."""

_K_FILTER_BOX = 3
"""libyuv's ``enum FilterMode`` value ``kFilterBox`` (None 0, Linear 1, Bilinear 2, Box 3)."""

_LIBYUV_FACTORS = frozenset({2, 4})
"""Factors libyuv shrinks as a true f x f box mean (its ``ScaleARGBDown2`` and
``ScaleARGBDown4Box`` paths); other even factors it takes from a 2x2 sample only, so
those go to numpy (they need screens over 5760 pixels wide anyway)."""


def downscale_factor(
    width: int, height: int, min_picture: tuple[int, int] | None = DEFAULT_MIN_PICTURE
) -> int:
    """The largest whole factor that keeps ``width`` x ``height`` at least ``min_picture``
    (long side against long side); 1 when ``min_picture`` is None or the picture is small."""
    if min_picture is None:
        return 1
    long_min, short_min = max(min_picture), min(min_picture)
    if long_min <= 0 or short_min <= 0:
        raise ValueError("min_picture must be positive")
    long_side, short_side = max(width, height), min(width, height)
    return max(1, min(long_side // long_min, short_side // short_min))


def downscaled_size(width: int, height: int, factor: int) -> tuple[int, int]:
    """The picture size after shrinking by ``factor``: a last partial block is left out."""
    if factor < 1:
        raise ValueError("factor must be at least 1")
    return width // factor, height // factor


def _check(image: npt.NDArray[np.uint8], factor: int) -> tuple[int, int]:
    if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8 or image.strides[1:] != (4, 1):
        raise ValueError("need an (H, W, 4) uint8 image with contiguous pixels")
    width, height = downscaled_size(int(image.shape[1]), int(image.shape[0]), factor)
    if width < 1 or height < 1:
        raise ValueError(f"cannot shrink {image.shape[1]}x{image.shape[0]} by {factor}")
    return width, height


def downscale_numpy(image: npt.NDArray[np.uint8], factor: int) -> npt.NDArray[np.uint8]:
    """The mean of each ``factor`` x ``factor`` block (a new array): exact, rounded half
    up, for factors over 2; within 1 of it for 2, which takes a faster path."""
    width, height = _check(image, factor)
    if factor == 1:
        return np.array(image, copy=True)
    cropped = image[: height * factor, : width * factor]
    if factor == 2:
        return _halve(cropped)
    blocks = cropped.reshape(height, factor, width, factor, 4)
    area = factor * factor
    sums: npt.NDArray[np.uint32] = blocks.sum(axis=(1, 3), dtype=np.uint32)
    return ((sums + area // 2) // area).astype(np.uint8)


_LOW_BITS_CLEARED = np.uint32(0xFEFEFEFE)


def _halve(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    # Whole BGRA pixels as uint32, four channels averaged at once without unpacking:
    # (a | b) - ((a ^ b) >> 1) is the per-byte mean rounded up, (a & b) + ((a ^ b) >> 1)
    # rounded down (the mask keeps each byte's shifted-in bit out of its neighbour).
    # Columns round up, rows down: within 1 of the exact mean, twice as fast as
    # summing in uint16 (a 4K frame: ~20 ms instead of ~40 ms on this 2-core Xeon).
    height, width = image.shape[0], image.shape[1]
    pixels = np.ascontiguousarray(image).view(np.uint32).reshape(height, width)
    left, right = pixels[:, 0::2], pixels[:, 1::2]
    columns = (left | right) - (((left ^ right) & _LOW_BITS_CLEARED) >> 1)
    top, bottom = columns[0::2], columns[1::2]
    rows = (top & bottom) + (((top ^ bottom) & _LOW_BITS_CLEARED) >> 1)
    return cast(npt.NDArray[np.uint8], rows.view(np.uint8).reshape(height // 2, width // 2, 4))


@functools.cache
def _libyuv() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("yuv")
    if path is None:
        logger.info("libyuv not found: large screens are shrunk with numpy")
        return None
    try:
        lib = ctypes.CDLL(path)
        scale = lib.ARGBScale
    except (OSError, AttributeError) as exc:
        logger.warning("libyuv unusable (%s): large screens are shrunk with numpy", exc)
        return None
    ci, vp = ctypes.c_int, ctypes.c_void_p
    # int ARGBScale(src, src_stride, src_w, src_h, dst, dst_stride, dst_w, dst_h, enum FilterMode)
    scale.argtypes = [vp, ci, ci, ci, vp, ci, ci, ci, ci]
    scale.restype = ci
    return lib


def libyuv_available() -> bool:
    """True when the system's libyuv can be used."""
    return _libyuv() is not None


class Downscaler:
    """Shrinks BGRA pictures by a whole factor into a new array each time.

    ``use_libyuv`` False forces the numpy path (tests compare both). The result is
    always a fresh, C-contiguous (H // f, W // f, 4) array: grabs hand it on as a
    :class:`~agent.capture.base.CapturedFrame` that nobody may write afterwards.
    The source may be a view with strided rows (a shared-memory segment, a crop).
    """

    def __init__(self, *, use_libyuv: bool = True) -> None:
        self._lib = _libyuv() if use_libyuv else None

    @property
    def backend(self) -> str:
        """``"libyuv"`` or ``"numpy"``."""
        return "libyuv" if self._lib is not None else "numpy"

    def shrink(self, image: npt.NDArray[np.uint8], factor: int) -> npt.NDArray[np.uint8]:
        """``image`` shrunk by ``factor`` (1: a copy)."""
        width, height = _check(image, factor)
        if self._lib is None or factor not in _LIBYUV_FACTORS:
            return downscale_numpy(image, factor)
        out = np.empty((height, width, 4), dtype=np.uint8)
        # The source cropped to whole blocks, so the ratio is exactly the factor.
        failed = self._lib.ARGBScale(
            image.ctypes.data,
            image.strides[0],
            width * factor,
            height * factor,
            out.ctypes.data,
            out.strides[0],
            width,
            height,
            _K_FILTER_BOX,
        )
        if failed:
            raise RuntimeError(f"ARGBScale failed ({failed}) shrinking {image.shape[1]}x{image.shape[0]}")
        return out
