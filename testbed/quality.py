"""Picture-quality figures for tests and benchmarks.

PSNR is computed on luma (BT.601 Y), as video quality is conventionally
reported: the stream is 4:2:0, so colour detail finer than 2x2 pixels is gone
by design before any encoder runs (the RGB PSNR of a lossless 4:2:0 round trip
of our test picture is only ~33.5 dB, while its luma PSNR is ~48.6 dB).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["luma", "psnr_luma"]


def luma(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """BT.601 luma of an (H, W, 3) RGB image, as float64 in 0..255."""
    weights = np.array([0.299, 0.587, 0.114])
    result: npt.NDArray[np.float64] = rgb[..., :3].astype(np.float64) @ weights
    return result


def psnr_luma(received: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8]) -> float:
    """Luma PSNR in dB of two same-sized RGB images (inf when identical)."""
    if received.shape[:2] != reference.shape[:2]:
        raise ValueError(f"size differs: {received.shape[:2]} vs {reference.shape[:2]}")
    mse = float(np.mean((luma(received) - luma(reference)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)
