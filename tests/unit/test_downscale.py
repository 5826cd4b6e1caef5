"""agent.capture.downscale: the whole factor chosen per screen size, libyuv against numpy."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from agent.capture.downscale import (
    DEFAULT_MIN_PICTURE,
    Downscaler,
    downscale_factor,
    downscale_numpy,
    downscaled_size,
    libyuv_available,
)


def _random(height: int, width: int, seed: int = 15) -> npt.NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)


def _exact_mean(image: npt.NDArray[np.uint8], factor: int) -> npt.NDArray[np.float64]:
    height, width = image.shape[0] // factor, image.shape[1] // factor
    blocks = image[: height * factor, : width * factor].astype(np.float64)
    result: npt.NDArray[np.float64] = blocks.reshape(height, factor, width, factor, 4).mean(axis=(1, 3))
    return result


@pytest.mark.parametrize(
    ("size", "factor"),
    [
        ((3840, 2160), 2),  # 4K laptop at 200 %: its logical 1080p
        ((2560, 1440), 1),  # 1440 / 1080 < 2: a whole factor would go below 1080p
        ((1920, 1080), 1),
        ((1366, 768), 1),  # smaller than the minimum: never enlarged
        ((7680, 4320), 4),
        ((5120, 2880), 2),  # 5K: 2560x1440, not a fractional 1920x1080
        ((3841, 2161), 2),  # odd sizes: the last partial block is left out
        ((3838, 2160), 1),  # one column short of 2 x 1920
        ((2160, 3840), 2),  # portrait 4K: long side against long side
        ((7680, 2160), 2),  # two 4K monitors side by side, shared as one desktop
    ],
)
def test_factor_is_the_largest_whole_one_keeping_1080p(size: tuple[int, int], factor: int) -> None:
    assert downscale_factor(*size) == factor
    assert downscale_factor(*size, DEFAULT_MIN_PICTURE) == factor
    width, height = downscaled_size(*size, factor)
    assert (max(width, height) >= 1920 and min(width, height) >= 1080) or factor == 1


def test_factor_without_a_minimum_and_bad_arguments() -> None:
    assert downscale_factor(3840, 2160, None) == 1
    assert downscale_factor(3840, 2160, (1280, 720)) == 3
    with pytest.raises(ValueError):
        downscale_factor(3840, 2160, (0, 1080))
    with pytest.raises(ValueError):
        downscaled_size(3840, 2160, 0)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_numpy_is_the_block_mean(factor: int) -> None:
    image = _random(2 * 3 * 4 * 5 + 1, 2 * 3 * 4 * 7 + 3)
    shrunk = downscale_numpy(image, factor)
    exact = _exact_mean(image, factor)
    assert shrunk.shape == exact.shape
    assert shrunk.dtype == np.uint8
    assert shrunk.flags.c_contiguous
    # Factors over 2 round exactly; 2 takes a bit-parallel path within one level.
    allowed = 1.0 if factor == 2 else 0.5
    assert np.abs(shrunk - exact).max() <= allowed


@pytest.mark.parametrize(("height", "width"), [(2160, 3840), (2161, 3841), (1081, 1923), (7, 9), (2, 2)])
def test_libyuv_agrees_with_numpy_within_one_level(height: int, width: int) -> None:
    assert libyuv_available(), "libyuv0 is in scripts/apt-packages.txt: make setup installs it"
    image = _random(height, width)
    libyuv = Downscaler()
    assert libyuv.backend == "libyuv"
    fast = libyuv.shrink(image, 2)
    slow = Downscaler(use_libyuv=False).shrink(image, 2)
    assert fast.shape == slow.shape == (height // 2, width // 2, 4)
    assert int(np.abs(fast.astype(np.int16) - slow).max()) <= 1
    # libyuv's SIMD 2:1 box averages in two rounded steps (pavgb): within one level.
    assert np.abs(fast - _exact_mean(image, 2)).max() <= 1.0


def test_libyuv_factor_four_and_other_factors() -> None:
    image = _random(4 * 270 + 3, 4 * 480 + 1)
    exact = _exact_mean(image, 4)
    # ScaleARGBDown4Box averages 2x2 twice, rounding each time: within 2 of the exact mean.
    assert np.abs(Downscaler().shrink(image, 4) - exact).max() <= 2
    # Factor 3 is not a libyuv box path: numpy, exact.
    assert np.abs(Downscaler().shrink(image, 3) - _exact_mean(image, 3)).max() <= 0.5


def test_strided_source_and_fresh_output() -> None:
    # A view with padded rows, as a crop of a larger buffer or a shared-memory segment is.
    backing = _random(1080, 1920 + 64)
    view = backing[:, :1920]
    view.flags.writeable = False
    for scaler in (Downscaler(), Downscaler(use_libyuv=False)):
        first, second = scaler.shrink(view, 2), scaler.shrink(view, 2)
        assert np.array_equal(first, second)
        assert not np.shares_memory(first, second)  # every grab owns its pixels
        assert not np.shares_memory(first, backing)
        assert first.flags.writeable
        assert first.flags.c_contiguous
    copy = Downscaler().shrink(view, 1)
    assert np.array_equal(copy, view)
    assert not np.shares_memory(copy, backing)


def test_text_stays_crisp() -> None:
    # A one-pixel stem at 200 % is two screen pixels wide on an even column: after
    # the whole-factor shrink it is one solid picture pixel, not a grey smear.
    image = np.full((8, 16, 4), 255, dtype=np.uint8)
    image[:, 6:8, :3] = 0
    for scaler in (Downscaler(), Downscaler(use_libyuv=False)):
        row = scaler.shrink(image, 2)[0, :, 0]
        assert row.tolist() == [255, 255, 255, 0, 255, 255, 255, 255]


def test_rejects_what_it_cannot_shrink() -> None:
    with pytest.raises(ValueError):
        Downscaler().shrink(np.zeros((4, 4, 3), dtype=np.uint8), 2)
    with pytest.raises(ValueError):
        Downscaler().shrink(np.zeros((1, 4, 4), dtype=np.uint8), 2)  # nothing left
    with pytest.raises(ValueError):
        downscale_numpy(np.zeros((4, 8, 4), dtype=np.uint8)[:, ::2], 2)  # pixels not contiguous
