"""agent.x264: the binding to PyAV's libx264, encoding real pictures and decoding them with FFmpeg."""

from __future__ import annotations

import ctypes
import os

import av
import numpy as np
import numpy.typing as npt
import pytest

from agent import pyav_libs, x264
from testbed.quality import psnr_luma


def _picture(height: int = 240, width: int = 320, seed: int = 1) -> npt.NDArray[np.uint8]:
    """Text-like detail: sharp dark strokes on a light background."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 4), 235, np.uint8)
    for _ in range(60):
        y, x = int(rng.integers(0, height - 12)), int(rng.integers(0, width - 40))
        image[y : y + 2, x : x + int(rng.integers(8, 40)), :3] = 20
        image[y : y + 10, x : x + 2, :3] = 20
    return image


def _yuv(image: npt.NDArray[np.uint8]) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(image, format="bgra").reformat(format="yuv420p")


def _encode(encoder: x264.X264Encoder, frame: av.VideoFrame, **kwargs: object) -> x264.Encoded:
    planes = frame.planes
    return encoder.encode(
        (planes[0].buffer_ptr, planes[1].buffer_ptr, planes[2].buffer_ptr),
        (planes[0].line_size, planes[1].line_size, planes[2].line_size),
        **kwargs,  # type: ignore[arg-type]
    )


def _decode(data: bytes, decoder: av.VideoCodecContext) -> list[av.VideoFrame]:
    return [f for f in decoder.decode(av.Packet(data)) if isinstance(f, av.VideoFrame)]


def test_the_library_is_pyavs_and_a_verified_build() -> None:
    library = x264.load()
    assert library.build in x264.SUPPORTED_BUILDS
    assert "x264" in os.path.basename(library.path)
    assert x264.load() is library  # loaded once


def test_round_trip_and_the_quantizer_of_every_frame_takes_effect() -> None:
    image = _picture()
    frame = _yuv(image)
    encoder = x264.X264Encoder(
        320, 240, options={"threads": "1", "keyint": "infinite", "repeat-headers": "1"}
    )
    assert encoder.threads == 1
    decoder = av.CodecContext.create("h264", "r")
    first = _encode(encoder, frame, pts=0, qp=20, keyframe=True)
    assert first.keyframe
    assert first.data.startswith(b"\x00\x00\x00\x01")
    decoded = _decode(first.data, decoder)
    assert len(decoded) == 1, "zero latency: the frame decodes at once"
    rgb = np.asarray(decoded[0].to_ndarray(format="rgb24"), np.uint8)
    assert psnr_luma(rgb, image[..., 2::-1]) > 35
    # Keyframes at several quantizers (each frame its own): sizes fall as the quantizer rises,
    # including outside CQP's default window of qp-3..qp+3 around the configured constant.
    sizes = {
        qp: len(_encode(encoder, frame, pts=qp, qp=qp, keyframe=True).data) for qp in (12, 18, 20, 30, 44)
    }
    assert sizes[12] > sizes[18] > sizes[20] > sizes[30] > sizes[44]
    assert sizes[12] > 1.5 * sizes[30]
    # Without a request the next frame is a P-frame: at a lower quantizer than the reference
    # it sharpens the picture, and once sharp an unchanged picture costs next to nothing.
    sharpen = _encode(encoder, frame, pts=100, qp=20)
    assert not sharpen.keyframe
    assert len(sharpen.data) > 1000
    repeat = _encode(encoder, frame, pts=101, qp=20)
    assert not repeat.keyframe
    assert len(repeat.data) < 200
    encoder.close()
    with pytest.raises(RuntimeError):
        _encode(encoder, frame, pts=102, qp=20)


def test_per_macroblock_offsets_sharpen_only_the_rows_asked_for() -> None:
    image = _picture(seed=4)
    frame = _yuv(image)
    options = {"threads": "1", "keyint": "infinite", "repeat-headers": "1"}
    encoder = x264.X264Encoder(320, 240, options=options, per_macroblock=True)
    assert (encoder.mb_columns, encoder.mb_rows) == (20, 15)
    decoder = av.CodecContext.create("h264", "r")
    _decode(_encode(encoder, frame, pts=0, qp=44, keyframe=True).data, decoder)  # coarse
    # The same picture again at QP 44, the top five macroblock rows at 44 - 24 = 20: only
    # they are refined (sharper than the rest, which stays as coarse as the keyframe).
    offsets = (ctypes.c_float * (20 * 15))(*([-24.0] * (20 * 5) + [0.0] * (20 * 10)))
    data = _encode(encoder, frame, pts=1, qp=44, quant_offsets=offsets).data
    rgb = np.asarray(_decode(data, decoder)[0].to_ndarray(format="rgb24"), np.uint8)
    source = image[..., 2::-1]
    top, bottom = psnr_luma(rgb[:80], source[:80]), psnr_luma(rgb[80:], source[80:])
    assert top > bottom + 8
    # Without offsets the encoder behaves as the constant-quantizer one.
    plain = _encode(encoder, frame, pts=2, qp=44).data
    assert len(plain) < len(data)
    encoder.close()
    cqp = x264.X264Encoder(320, 240, options=options)
    with pytest.raises(ValueError):  # offsets need a per-macroblock encoder
        _encode(cqp, frame, pts=0, qp=30, quant_offsets=offsets)
    cqp.close()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        x264.X264Encoder(321, 240)
    with pytest.raises(ValueError):
        x264.X264Encoder(320, 240, options={"no-such-option": "1"})
    with pytest.raises(ValueError):
        x264.X264Encoder(320, 240, preset="warp-speed")
    encoder = x264.X264Encoder(320, 240)
    with pytest.raises(ValueError):
        _encode(encoder, _yuv(_picture()), pts=0, qp=52)
    encoder.close()


def test_a_library_that_is_not_x264_is_refused() -> None:
    avutil = pyav_libs.candidates("avutil")
    assert avutil, "PyAV's libavutil should be found like libx264"
    with pytest.raises(x264.X264Unavailable, match="x264_encoder_open"):
        x264._bind(avutil[0])
    with pytest.raises(x264.X264Unavailable, match="cannot load"):
        x264._bind(os.path.join("nonexistent", "libx264.so"))
