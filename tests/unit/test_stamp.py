"""testbed.stamp: paint/read round trips, misread rejection, real codec round trips."""

from __future__ import annotations

import fractions
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.video.codeccontext import VideoCodecContext
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed import stamp

Image = npt.NDArray[np.uint8]


def _noise(height: int, width: int, channels: int, seed: int = 0) -> Image:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


@given(value=st.integers(0, 2**32 - 1))
def test_bits_round_trip(value: int) -> None:
    assert stamp.decode_bits(stamp.encode_bits(value)) == value


@given(value=st.integers(0, 2**32 - 1), bit=st.integers(0, stamp.COLUMNS * stamp.ROWS - 1))
def test_any_single_bit_error_is_rejected(value: int, bit: int) -> None:
    bits = stamp.encode_bits(value).reshape(-1).copy()
    bits[bit] = not bits[bit]
    assert stamp.decode_bits(bits.reshape(stamp.ROWS, stamp.COLUMNS)) is None


@pytest.mark.parametrize("channels", [0, 3, 4])
@pytest.mark.parametrize("value", [0, 1, 0xDEADBEEF, 2**32 - 1])
def test_paint_then_read(channels: int, value: int) -> None:
    image = _noise(100, 240, channels or 1)
    if channels == 0:
        image = image[..., 0].copy()
    stamp.paint_stamp(image, value, x=32, y=16)
    assert stamp.read_stamp(image, x=32, y=16) == value
    if channels == 4:
        width, height = stamp.stamp_size()
        assert (image[16 : 16 + height, 32 : 32 + width, 3] == 255).all()


def test_decoded_stamps_read_full_size_and_scaled_pictures() -> None:
    full = _noise(400, 800, 4)
    stamp.paint_stamp(full, 7, x=64, y=32)
    half = _noise(200, 400, 4)
    stamp.paint_stamp(half, 8, x=32, y=16, block=stamp.BLOCK // 2)  # a slow link's picture at half size
    sink = stamp.DecodedStamps(800, 64, 32)
    sink(full, 1.0)
    sink(half, 2.0)
    sink(_noise(400, 800, 4), 3.0)  # no stamp there: skipped
    assert sink.decoded == [(7, 1.0), (8, 2.0)]
    only_full = stamp.DecodedStamps(800, 64, 32, full_size_only=True)
    only_full(half, 2.0)
    only_full(full, 4.0)
    assert only_full.decoded == [(7, 4.0)]


def test_read_elsewhere_or_on_plain_images_finds_nothing() -> None:
    image = _noise(100, 240, 3)
    stamp.paint_stamp(image, 12345, x=16, y=16)
    assert stamp.read_stamp(image, x=32, y=16) is None
    for level in (0, 128, 255):
        assert stamp.read_stamp(np.full((64, 192, 3), level, np.uint8)) is None


@settings(max_examples=200)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_pictures_do_not_decode(seed: int) -> None:
    # Random block patterns pass a 16-bit check with probability 1/65536 each.
    bits = np.random.default_rng(seed).integers(0, 2, (stamp.ROWS, stamp.COLUMNS)).astype(bool)
    value = stamp.decode_bits(bits)
    if value is not None:  # the rare legitimate collision must at least be self-consistent
        assert (stamp.encode_bits(value) == bits).all()


def test_out_of_range_and_misplaced() -> None:
    image = np.zeros((64, 192, 3), np.uint8)
    with pytest.raises(stamp.StampError):
        stamp.paint_stamp(image, 2**32)
    with pytest.raises(stamp.StampError):
        stamp.paint_stamp(image, -1)
    with pytest.raises(stamp.StampError):
        stamp.paint_stamp(image, 1, x=1)
    with pytest.raises(stamp.StampError):
        stamp.read_stamp(image, y=1)
    stamp.paint_stamp(image, 7)
    assert stamp.read_stamp(image) == 7
    assert stamp.stamp_size(8) == (96, 32)


def _codec_round_trip(encoder: str, decoder: str, pictures: list[Image], bitrate: int) -> list[Image]:
    """Encode RGB pictures with a real PyAV encoder, decode them, return BGR pictures."""
    height, width = pictures[0].shape[:2]
    enc = av.CodecContext.create(encoder, "w")
    assert isinstance(enc, VideoCodecContext)
    enc.width = width
    enc.height = height
    enc.pix_fmt = "yuv420p"
    enc.bit_rate = bitrate
    enc.time_base = fractions.Fraction(1, 30)
    enc.framerate = fractions.Fraction(30, 1)
    if encoder == "libx264":
        enc.options = {"preset": "ultrafast", "tune": "zerolatency"}
    else:
        enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    dec = av.CodecContext.create(decoder, "r")
    assert isinstance(dec, VideoCodecContext)
    decoded: list[Image] = []

    def drain(packets: list[Any]) -> None:
        for packet in packets:
            for frame in dec.decode(packet):
                decoded.append(np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8))

    for pts, picture in enumerate(pictures):
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts = pts
        drain(enc.encode(frame))
    drain(enc.encode(None))
    for frame in dec.decode(None):
        decoded.append(np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8))
    return decoded


@pytest.mark.parametrize(("encoder", "decoder"), [("libx264", "h264"), ("libvpx", "vp8")])
def test_survives_real_encode_decode(encoder: str, decoder: str) -> None:
    # Moving noise is the worst case for the encoder: at 300 kbit/s it starves every
    # block, yet the stamp's flat black/white macroblocks must still read back.
    values = [1000 + 7 * i for i in range(30)]
    pictures = []
    background = _noise(240, 320 + 60, 3, seed=1)
    for i, value in enumerate(values):
        picture = background[:, 2 * i : 2 * i + 320].copy()
        stamp.paint_stamp(picture, value, x=16, y=32)
        pictures.append(picture)
    decoded = _codec_round_trip(encoder, decoder, pictures, bitrate=300_000)
    assert len(decoded) == len(values)
    read = [stamp.read_stamp(picture, x=16, y=32) for picture in decoded]
    assert read == values
    # And the noise really was degraded, so the test is not trivially lossless.
    error = np.abs(decoded[-1].astype(int)[..., ::-1] - pictures[-1].astype(int)).mean()
    assert error > 10
