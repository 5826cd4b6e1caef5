"""agent.swscale: BGRA -> yuv420p through PyAV's libswscale, checked against PyAV's own reformatter."""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.video.reformatter import Interpolation, VideoReformatter

from agent import swscale


def _picture(height: int = 360, width: int = 640, seed: int = 3) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    image[50:120, 100:300, :3] = (30, 160, 240)  # a flat coloured box
    return image


def _planes(frame: av.VideoFrame) -> list[npt.NDArray[np.uint8]]:
    out = []
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        out.append(rows[:, : plane.width])
    return out


def _reference(image: npt.NDArray[np.uint8]) -> av.VideoFrame:
    return VideoReformatter().reformat(
        av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(image), format="bgra"),
        format="yuv420p",
        interpolation=Interpolation.AREA,
        threads=1,
    )


def test_same_luma_as_pyav_and_chroma_within_one() -> None:
    image = _picture()
    got = _planes(swscale.BgraToYuv420().convert(image))
    want = _planes(_reference(image))
    assert np.array_equal(got[0], want[0])
    for index in (1, 2):
        difference = np.abs(got[index].astype(int) - want[index].astype(int))
        assert difference.max() <= 1
        assert difference.mean() < 0.5
    # The flat box keeps its colour exactly (BT.601, limited range, as PyAV).
    assert np.array_equal(got[1][30:55, 60:140], want[1][30:55, 60:140])


def test_a_band_of_a_larger_picture_and_an_existing_frame() -> None:
    image = _picture()
    converter = swscale.BgraToYuv420()
    band = image[100:164]  # strided rows: a view into the larger picture
    assert not band.flags.c_contiguous or band.base is not None
    out = av.VideoFrame(640, 64, "yuv420p")
    assert converter.convert(band, out) is out
    alone = converter.convert(np.ascontiguousarray(band))
    for got, want in zip(_planes(out), _planes(alone), strict=True):
        assert np.array_equal(got, want)
    # Back to the full size: the context follows the size.
    full = converter.convert(image)
    assert (full.width, full.height) == (640, 360)
    converter.close()


def test_bad_input_is_refused() -> None:
    converter = swscale.BgraToYuv420()
    with pytest.raises(ValueError, match="even"):
        converter.convert(_picture(height=361))
    with pytest.raises(ValueError, match="contiguous"):
        converter.convert(_picture()[:, ::2])
    with pytest.raises(ValueError, match="even"):
        converter.convert(_picture(), av.VideoFrame(321, 180, "yuv420p"))
    with pytest.raises(ValueError):
        converter.convert(np.zeros((4, 4, 3), np.uint8))


def test_scaling_into_a_smaller_frame_matches_pyav() -> None:
    """A large screen encoded at fewer pixels (agent.encoder H264Settings.max_pixels)."""
    image = _picture()
    converter = swscale.BgraToYuv420()
    out = converter.convert(image, av.VideoFrame(image.shape[1] // 2, image.shape[0] // 2, "yuv420p"))
    assert (out.width, out.height) == (image.shape[1] // 2, image.shape[0] // 2)
    reference = av.VideoFrame.from_ndarray(image, format="bgra").reformat(
        width=out.width, height=out.height, format="yuv420p", interpolation="AREA"
    )
    ours = out.to_ndarray()[: out.height].astype(int)
    theirs = reference.to_ndarray()[: out.height].astype(int)
    assert np.abs(ours - theirs).mean() < 2.0
