"""The mouse cursor's picture, from what each OS hands out to straight-alpha RGBA.

Pure functions on bytes, so the Windows conversion is tested on Linux with data laid
out exactly as ``GetDIBits`` returns it:

* X11 (XFixes ``GetCursorImage``): 32-bit ARGB words in native byte order (B, G, R, A
  in memory on little-endian machines), alpha *premultiplied* (Render convention).
* Windows (``GetIconInfo`` + ``GetDIBits`` at 32 bits per pixel, top-down): a colour
  cursor has a BGRA colour bitmap, whose alpha is either real (straight) or all zero
  (then the AND mask says which pixels are transparent); a monochrome cursor has no
  colour bitmap and a mask twice as tall: the AND mask above the XOR mask. An
  AND=1/XOR=1 pixel inverts the screen under it (the text I-beam is drawn that way);
  it is shown as opaque black, which is what inversion gives on the light backgrounds
  cursors mostly sit on.

:func:`fit_cursor` scales a cursor larger than the wire limit down by a whole factor.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

__all__ = ["CursorImage", "fit_cursor", "from_premultiplied_argb", "from_windows_bitmaps"]


@dataclasses.dataclass(frozen=True)
class CursorImage:
    """One cursor shape: ``rgba`` is ``width * height * 4`` bytes, alpha not premultiplied.

    ``serial`` identifies the shape on this machine (XFixes cursor serial, Windows
    cursor handle); a new value means the shape changed. ``scale`` is screen pixels
    per image pixel (1 unless :func:`fit_cursor` shrank it).
    """

    serial: int
    width: int
    height: int
    hot_x: int
    hot_y: int
    rgba: bytes
    scale: float = 1.0


def from_premultiplied_argb(words: npt.NDArray[np.uint32], width: int, height: int) -> bytes:
    """XFixes pixels (``width * height`` ARGB words, premultiplied) as straight RGBA bytes."""
    argb = np.asarray(words, dtype=np.uint32).reshape(height, width)
    a = (argb >> 24) & 0xFF
    colour = [(argb >> shift) & 0xFF for shift in (16, 8, 0)]
    out = np.empty((height, width, 4), dtype=np.uint8)
    safe = np.maximum(a, 1)
    for i, channel in enumerate(colour):
        # Un-premultiply, rounding; a channel above alpha (invalid premultiplied data) clips.
        out[..., i] = np.where(a > 0, np.minimum(255, (channel * 255 + safe // 2) // safe), 0)
    out[..., 3] = a
    return out.tobytes()


def from_windows_bitmaps(color_bgra: bytes | None, mask_bgra: bytes, width: int, height: int) -> bytes:
    """A Windows cursor's bitmaps (32-bit top-down DIB rows) as straight RGBA bytes.

    ``color_bgra`` is ``width * height`` pixels or ``None`` for a monochrome cursor;
    ``mask_bgra`` is the AND mask (``height`` rows), or AND then XOR (``2 * height``
    rows) for a monochrome cursor. GetDIBits turns mask bits into black (0) or white.
    """
    rows = height if color_bgra is not None else 2 * height
    mask = np.frombuffer(mask_bgra, dtype=np.uint8)
    if mask.size != width * rows * 4:
        raise ValueError(f"mask: expected {width}x{rows} pixels, got {mask.size // 4}")
    bits = mask.reshape(rows, width, 4)[..., 0] >= 128
    and_bits = bits[:height]
    out = np.zeros((height, width, 4), dtype=np.uint8)
    if color_bgra is not None:
        colour = np.frombuffer(color_bgra, dtype=np.uint8)
        if colour.size != width * height * 4:
            raise ValueError(f"colour: expected {width}x{height} pixels, got {colour.size // 4}")
        bgra = colour.reshape(height, width, 4)
        out[..., 0] = bgra[..., 2]
        out[..., 1] = bgra[..., 1]
        out[..., 2] = bgra[..., 0]
        alpha = bgra[..., 3]
        out[..., 3] = alpha if alpha.any() else np.where(and_bits, 0, 255).astype(np.uint8)
        return out.tobytes()
    xor_bits = bits[height:]
    opaque = ~and_bits | xor_bits  # AND=1/XOR=0 is the only transparent combination
    white = ~and_bits & xor_bits
    out[..., :3] = np.where(white, 255, 0).astype(np.uint8)[..., None]
    out[..., 3] = np.where(opaque, 255, 0).astype(np.uint8)
    return out.tobytes()


def fit_cursor(image: CursorImage, limit: int) -> CursorImage:
    """``image`` if both sides are within ``limit``, else shrunk by the smallest whole factor."""
    if image.width <= limit and image.height <= limit:
        return image
    factor = -(-max(image.width, image.height) // limit)
    pixels = np.frombuffer(image.rgba, dtype=np.uint8).reshape(image.height, image.width, 4)
    small = np.ascontiguousarray(pixels[::factor, ::factor])
    height, width = small.shape[:2]
    return dataclasses.replace(
        image,
        width=width,
        height=height,
        hot_x=min(width - 1, image.hot_x // factor),
        hot_y=min(height - 1, image.hot_y // factor),
        rgba=small.tobytes(),
        scale=image.scale * factor,
    )
