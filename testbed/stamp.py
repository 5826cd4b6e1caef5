"""A frame counter painted into pixels as a barcode, read back after lossy video coding.

Used to measure capture-to-decoded latency honestly: the scene paints an
incrementing counter into a corner of the screen, the agent's track reports when it
captured the frame carrying each counter, and the operator side reads the counter
from the decoded picture.

Layout: 48 bits (a 32-bit value, then a 16-bit checksum), most significant first,
row-major in a grid of ``COLUMNS`` x ``ROWS`` square blocks; a 1 is white, a 0 black.
With the default 16 px block the stamp is 192 x 64 px. Placed on a 16 px grid,
every block is exactly one H.264 macroblock (and one VP8 macroblock), so the codec
never has to blend two blocks, and a flat black or white block survives even a low
bitrate and 4:2:0 chroma subsampling (only luma matters). The reader averages the
central half of each block, where ringing from block edges is weakest, and
thresholds at mid-grey. The checksum (low 16 bits of a CRC-32 over a magic prefix
and the value) rejects misreads and pictures that carry no stamp: all-black and
all-white regions do not decode.

Pure numpy: no Qt, no codec; works on BGRA, BGR, RGB or grey images (black and
white look the same in every channel order).
"""

from __future__ import annotations

import logging
import zlib

import numpy as np
import numpy.typing as npt

__all__ = [
    "BLOCK",
    "COLUMNS",
    "DecodedStamps",
    "ROWS",
    "VALUE_BITS",
    "StampError",
    "checksum",
    "encode_bits",
    "decode_bits",
    "paint_stamp",
    "read_stamp",
    "stamp_size",
]

logger = logging.getLogger(__name__)

BLOCK = 16
"""Default block side in pixels."""

VALUE_BITS = 32
CHECK_BITS = 16
COLUMNS = 12
ROWS = 4
_TOTAL_BITS = VALUE_BITS + CHECK_BITS
_MAGIC = b"madoguchi-stamp"

assert COLUMNS * ROWS == _TOTAL_BITS, "layout invariant"


class StampError(ValueError):
    """The value does not fit, or the stamp would not fit into the image."""


def checksum(value: int) -> int:
    """16-bit check of a 32-bit value."""
    return zlib.crc32(_MAGIC + value.to_bytes(4, "big")) & 0xFFFF


def encode_bits(value: int) -> npt.NDArray[np.bool_]:
    """The (ROWS, COLUMNS) bit grid for ``value``."""
    if not 0 <= value < 1 << VALUE_BITS:
        raise StampError(f"stamp value must be 0..2**32-1, got {value}")
    word = (value << CHECK_BITS) | checksum(value)
    bits = [(word >> (_TOTAL_BITS - 1 - i)) & 1 for i in range(_TOTAL_BITS)]
    return np.array(bits, dtype=bool).reshape(ROWS, COLUMNS)


def decode_bits(bits: npt.NDArray[np.bool_]) -> int | None:
    """The value carried by a bit grid, or ``None`` if the checksum does not match."""
    word = 0
    for bit in bits.reshape(-1):
        word = (word << 1) | int(bit)
    value, check = word >> CHECK_BITS, word & 0xFFFF
    return value if checksum(value) == check else None


def stamp_size(block: int = BLOCK) -> tuple[int, int]:
    """(width, height) in pixels of a stamp with this block size."""
    return COLUMNS * block, ROWS * block


def _region(image: npt.NDArray[np.uint8], x: int, y: int, block: int) -> npt.NDArray[np.uint8]:
    width, height = stamp_size(block)
    if block < 2:
        raise StampError("block must be at least 2 px")
    if (
        image.ndim not in (2, 3)
        or x < 0
        or y < 0
        or y + height > image.shape[0]
        or x + width > image.shape[1]
    ):
        raise StampError(
            f"a {width}x{height} stamp at ({x}, {y}) does not fit an image of shape {image.shape}"
        )
    return image[y : y + height, x : x + width]


def paint_stamp(
    image: npt.NDArray[np.uint8], value: int, *, x: int = 0, y: int = 0, block: int = BLOCK
) -> None:
    """Paint ``value`` into ``image`` (H, W), (H, W, 3) or (H, W, 4) in place at (x, y).

    A fourth channel (alpha) is set opaque.
    """
    region = _region(image, x, y, block)
    bits = encode_bits(value)
    # Scale the bit grid up to pixels: one uint8 level per pixel, 0 or 255.
    levels = np.repeat(np.repeat(bits, block, axis=0), block, axis=1).astype(np.uint8) * np.uint8(255)
    if region.ndim == 2:
        region[...] = levels
        return
    colour_channels = min(region.shape[2], 3)
    region[..., :colour_channels] = levels[..., None]
    if region.shape[2] == 4:
        region[..., 3] = 255


def read_stamp(image: npt.NDArray[np.uint8], *, x: int = 0, y: int = 0, block: int = BLOCK) -> int | None:
    """Read the value painted at (x, y), or ``None`` when there is no valid stamp.

    ``image`` may be a decoded video frame as RGB or BGR (or BGRA, or grey).
    """
    region = _region(image, x, y, block)
    # Green is the middle channel in RGB, BGR and BGRA alike and carries most of the
    # luma; black and white blocks are equal in every channel. One channel keeps this
    # cheap: it runs on every captured and every decoded frame of a benchmark.
    plane = region if region.ndim == 2 else region[..., 1]
    # Mean of the central half of each block: (ROWS, block, COLUMNS, block) -> (ROWS, COLUMNS).
    margin = block // 4
    cells = plane.reshape(ROWS, block, COLUMNS, block)[:, margin : block - margin, :, margin : block - margin]
    sums = cells.sum(axis=(1, 3), dtype=np.uint32)
    threshold = 127.5 * (block - 2 * margin) ** 2
    return decode_bits(sums > threshold)


class DecodedStamps:
    """A frame sink's ``on_frame`` that keeps (stamp value, arrival time) of every readable picture.

    ``width`` is the screen's width and (``x``, ``y``) where the stamp is painted on it. A
    picture at fewer pixels (scaled for a slow link) is read at its scale, its stamp
    shrunk alike; ``full_size_only`` ignores such pictures instead (a lab whose link never
    scales). Unreadable stamps (a torn or blurred picture) are skipped.
    """

    def __init__(self, width: int, x: int, y: int, *, full_size_only: bool = False) -> None:
        self.width = width
        self.x = x
        self.y = y
        self.full_size_only = full_size_only
        self.decoded: list[tuple[int, float]] = []

    def __call__(self, image: npt.NDArray[np.uint8], at: float) -> None:
        scale = image.shape[1] / self.width
        if scale != 1.0 and self.full_size_only:
            return
        try:
            if scale == 1.0:
                value = read_stamp(image, x=self.x, y=self.y)
            else:
                x, y = round(self.x * scale), round(self.y * scale)
                value = read_stamp(image, x=x, y=y, block=round(BLOCK * scale))
        except StampError:
            return
        if value is not None:
            self.decoded.append((value, at))
