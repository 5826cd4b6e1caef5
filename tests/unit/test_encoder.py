"""agent.encoder: H.264 level, settings, the bitrate-cap policy, the yuv canvas and the encoder itself."""

from __future__ import annotations

import fractions

import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc.codecs.h264 import H264Decoder, h264_depayload
from aiortc.jitterbuffer import JitterFrame

from agent import swscale
from agent.capture import Change, changed_rows
from agent.encoder import (
    BitrateCap,
    H264Settings,
    TunedH264Encoder,
    YuvCanvas,
    h264_level,
)
from agent.track import to_video_frame
from testbed.quality import psnr_luma

TIME_BASE = fractions.Fraction(1, 90_000)


@pytest.mark.parametrize(
    ("width", "height", "fps", "level"),
    [
        (640, 480, 30, 31),  # never below what aiortc's SDP announces
        (1280, 720, 30, 31),
        (1280, 720, 60, 32),
        (1920, 1080, 30, 40),
        (1920, 1080, 60, 42),
        (2560, 1440, 30, 50),
        (3840, 2160, 30, 51),
        (7680, 4320, 30, 60),
    ],
)
def test_level_fits_the_picture(width: int, height: int, fps: float, level: int) -> None:
    assert h264_level(width, height, fps) == level


def test_level_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        h264_level(0, 1080, 30)


def test_codec_options() -> None:
    settings = H264Settings(threads=2)
    options = settings.codec_options(2_000_000)
    assert options["preset"] == "ultrafast"
    assert options["tune"] == "zerolatency"
    assert options["maxrate"] == "2000000"
    assert options["bufsize"] == "4000000"  # two seconds of the cap
    assert "keyint=infinite" in options["x264-params"]
    assert "scenecut=0" in options["x264-params"]
    assert options["threads"] == "2"
    with pytest.raises(ValueError):
        H264Settings(crf=60)
    with pytest.raises(ValueError):
        H264Settings(min_bitrate=5_000_000, max_bitrate=1_000_000)


def test_bitrate_cap_ignores_small_moves_and_idle_screens() -> None:
    settings = H264Settings(min_bitrate=300_000, max_bitrate=3_000_000)
    cap = BitrateCap(settings, factor=2.0, hold_s=3.0)
    assert cap.cap == 3_000_000
    # aiortc-style 10 % moves: never a rebuild.
    for t, target in enumerate([2_700_000, 3_000_000, 2_400_000, 2_900_000]):
        assert not cap.update(target, sent_bps=2_500_000, now=float(t))
    # A quiet screen drags the receiver's estimate down, but we send nothing: no rebuild.
    for t in range(10, 30):
        assert not cap.update(400_000, sent_bps=5_000, now=float(t))
    assert cap.cap == 3_000_000


def test_bitrate_cap_follows_sustained_congestion_then_recovers() -> None:
    cap = BitrateCap(H264Settings(), factor=2.0, hold_s=3.0)
    assert not cap.update(1_000_000, sent_bps=2_800_000, now=0.0)
    assert not cap.update(1_000_000, sent_bps=2_800_000, now=2.9)
    assert cap.update(1_000_000, sent_bps=2_800_000, now=3.0)
    assert cap.cap == 1_000_000
    # Back up only once the estimate is twice the cap for the hold time.
    assert not cap.update(1_900_000, sent_bps=900_000, now=4.0)
    assert not cap.update(2_500_000, sent_bps=900_000, now=5.0)
    assert cap.update(2_500_000, sent_bps=900_000, now=8.0)
    assert cap.cap == 2_500_000
    # An interruption of the condition restarts the hold.
    assert not cap.update(900_000, sent_bps=2_000_000, now=9.0)
    assert not cap.update(2_500_000, sent_bps=2_000_000, now=10.0)
    assert not cap.update(900_000, sent_bps=2_000_000, now=11.0)
    assert not cap.update(900_000, sent_bps=2_000_000, now=13.5)


def test_following_cap_tracks_the_estimate_within_a_second() -> None:
    cap = BitrateCap.following(H264Settings(min_bitrate=300_000, max_bitrate=3_000_000))
    # Congestion: the estimate (REMB) is far under the cap and under 0.7 x what we send.
    assert not cap.update(1_600_000, sent_bps=2_500_000, now=0.0)
    assert cap.update(1_600_000, sent_bps=2_500_000, now=1.0)  # a second later: followed
    assert cap.cap == 1_600_000
    # One decrease to 0.85 x what we send (a false alarm, or the estimator's own step)
    # does not move it: no spiral down.
    for t in range(2, 10):
        assert not cap.update(1_360_000, sent_bps=1_600_000, now=float(t))
    assert cap.cap == 1_600_000
    # Nor a stretch of them at the LAN's 3 Mbit/s cap while the scroll sends 1.65 Mbit/s.
    lan = BitrateCap.following(H264Settings(min_bitrate=300_000, max_bitrate=3_000_000))
    for t in range(10):
        assert not lan.update(1_400_000, sent_bps=1_650_000, now=float(t))
    # A quiet screen drags the estimate down, but we send little: the cap stays.
    assert not cap.update(400_000, sent_bps=50_000, now=10.5)
    assert not cap.update(400_000, sent_bps=50_000, now=12.0)
    assert cap.cap == 1_600_000
    # The estimate recovers: the cap follows at once, never above the maximum.
    assert cap.update(2_000_000, sent_bps=1_000_000, now=13.0)
    assert cap.cap == 2_000_000
    assert cap.update(10_000_000, sent_bps=1_000_000, now=13.5)
    assert cap.cap == 3_000_000


def test_encoder_with_per_frame_quantizer_follows_the_estimate() -> None:
    clock = [0.0]
    encoder = TunedH264Encoder(H264Settings(threads=1), clock=lambda: clock[0])
    # The test machine binds libx264 (the round-trip test requires it too); only the
    # per-frame-quantizer encoder follows the estimate, the CRF fallback keeps its hysteresis.
    assert encoder.backend == "x264-qp"
    encoder.target_bitrate = 1_000_000
    for index in range(8):
        clock[0] = index * 0.2
        encoder.encode(_frame(_picture(seed=index), index))  # noise: well over 1 Mbit sent
    assert encoder.cap == 1_000_000


def test_bitrate_cap_clamps() -> None:
    cap = BitrateCap(H264Settings(min_bitrate=300_000, max_bitrate=3_000_000))
    assert cap.clamp(10) == 300_000
    assert cap.clamp(10**9) == 3_000_000


def _picture(height: int = 360, width: int = 640, seed: int = 0) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 4), np.uint8)
    image[..., :3] = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    return image


def test_changed_rows() -> None:
    a = _picture()
    assert changed_rows(a, a.copy()) is None
    b = a.copy()
    b[100, 7, 2] ^= 1
    assert changed_rows(a, b) == (100, 101)
    b[37, 0, 0] ^= 1
    b[290, 639, 1] ^= 1
    assert changed_rows(a, b) == (37, 291)
    c = a.copy()
    c[0, 0, 0] ^= 1
    c[-1, -1, 0] ^= 1
    assert changed_rows(a, c) == (0, 360)
    # Cropped (non-contiguous) views compare the same way.
    assert changed_rows(a[:, :638], b[:, :638]) == (37, 101)
    assert changed_rows(a, a[:200]) == (0, 200)


def _planes(frame: av.VideoFrame) -> list[npt.NDArray[np.uint8]]:
    return [
        np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width].copy()
        for p in frame.planes
    ]


@pytest.mark.parametrize(("top", "bottom"), [(0, 1), (1, 2), (57, 58), (100, 163), (300, 360), (358, 360)])
def test_canvas_band_update_equals_a_full_conversion(top: int, bottom: int) -> None:
    canvas = YuvCanvas()
    first = _picture(seed=1)
    canvas.convert(av.VideoFrame.from_numpy_buffer(first, format="bgra"))
    second = first.copy()
    second[top:bottom] = _picture(seed=2)[top:bottom]
    updated = canvas.convert(av.VideoFrame.from_numpy_buffer(second, format="bgra"))
    assert canvas.partial == 1
    assert canvas.direct
    reference = swscale.BgraToYuv420().convert(second)
    for got, want in zip(_planes(updated), _planes(reference), strict=True):
        assert np.array_equal(got, want)


def test_canvas_takes_the_band_found_on_the_grabber_thread() -> None:
    canvas = YuvCanvas()
    first = _picture(seed=1)
    canvas.convert(to_video_frame(first))
    second = first.copy()
    second[100:110] = _picture(seed=2)[100:110]
    second[300:302] = _picture(seed=3)[300:302]
    # The change says rows 100-110 only: the canvas converts that band and no more (it
    # does not compare the pictures again), so rows 300-302 keep the first picture.
    frame = to_video_frame(second)
    frame.opaque = Change(first, (100, 110))
    updated = canvas.convert(frame)
    assert canvas.partial == 1
    want_first = swscale.BgraToYuv420().convert(first)
    want_second = swscale.BgraToYuv420().convert(second)
    luma, luma_first, luma_second = (_planes(f)[0] for f in (updated, want_first, want_second))
    assert np.array_equal(luma[100:110], luma_second[100:110])
    assert np.array_equal(luma[300:302], luma_first[300:302])
    # A change measured against another picture (one dropped in between) is not trusted.
    third = second.copy()
    third[300:302] = _picture(seed=4)[300:302]
    frame = to_video_frame(third)
    frame.opaque = Change(first, (0, 1))
    updated = canvas.convert(frame)
    want_third = swscale.BgraToYuv420().convert(third)
    assert np.array_equal(_planes(updated)[0][300:302], _planes(want_third)[0][300:302])


def test_canvas_reuses_same_picture_and_converts_big_changes_fully() -> None:
    canvas = YuvCanvas()
    image = _picture()
    first = canvas.convert(to_video_frame(image))
    again = canvas.convert(to_video_frame(image))  # a keep-alive: same buffer
    assert again is first
    assert (canvas.full, canvas.reused) == (1, 1)
    canvas.convert(to_video_frame(_picture(seed=5)))  # everything changed
    assert canvas.full == 2
    assert canvas.convert(to_video_frame(_picture(seed=5).copy())) is not None  # equal content, new buffer
    assert canvas.reused == 2
    # Other pixel formats pass through or are converted plainly.
    yuv = av.VideoFrame(64, 48, "yuv420p")
    assert canvas.convert(yuv) is yuv
    assert canvas.convert(av.VideoFrame(64, 48, "rgb24")).format.name == "yuv420p"


def _frame(image: npt.NDArray[np.uint8], index: int) -> av.VideoFrame:
    frame = to_video_frame(image)
    frame.pts = index * 3000
    frame.time_base = TIME_BASE
    return frame


def _decode(decoder: H264Decoder, payloads: list[bytes], timestamp: int) -> list[av.VideoFrame]:
    data = b"".join(h264_depayload(p) for p in payloads)
    return [f for f in decoder.decode(JitterFrame(data, timestamp)) if isinstance(f, av.VideoFrame)]


def _smooth(height: int = 360, width: int = 640) -> npt.NDArray[np.uint8]:
    """Gradients and flat boxes: a picture a codec can code well (unlike noise)."""
    yy, xx = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 4), np.uint8)
    image[..., 0] = (xx * 255 // width).astype(np.uint8)
    image[..., 1] = (yy * 255 // height).astype(np.uint8)
    image[..., 2] = 128
    image[40:120, 300:420, :3] = (20, 200, 90)
    return image


@pytest.mark.parametrize("rate_control", ["qp", "crf"])
def test_encoder_round_trip_keyframes_only_on_request(rate_control: str) -> None:
    sizes: list[tuple[int, bool]] = []
    settings = H264Settings(threads=1, rate_control=rate_control, keyframe_interval_s=0, start_bitrate=None)
    encoder = TunedH264Encoder(settings, on_encoded=lambda n, key: sizes.append((n, key)))
    assert encoder.backend == ("x264-qp" if rate_control == "qp" else "pyav-crf")
    decoder = H264Decoder()
    base = _smooth()
    for index in range(8):
        image = base.copy()
        image[100:116, index * 16 : index * 16 + 16] = 255  # a small change per frame
        payloads, timestamp = encoder.encode(_frame(image, index), force_keyframe=index == 5)
        assert payloads
        assert all(len(p) <= 1300 for p in payloads)
        assert timestamp == index * 3000
        decoded = _decode(decoder, payloads, timestamp)
        assert len(decoded) == 1, "zero latency: every frame decodes at once"
        rgb = np.asarray(decoded[0].to_ndarray(format="rgb24"), np.uint8)
        assert psnr_luma(rgb, image[..., 2::-1]) > 30
    keys = [index for index, (_, key) in enumerate(sizes) if key]
    assert keys == [0, 5]
    stats = encoder.stats
    assert stats.frames == 8
    assert stats.keyframes == 2
    assert stats.rebuilds == 0
    assert encoder.canvas.partial == 7


def test_keyframe_requests_are_served_at_most_once_per_interval() -> None:
    clock = [0.0]
    encoder = TunedH264Encoder(H264Settings(threads=1, keyframe_interval_s=0.5), clock=lambda: clock[0])
    image = _smooth()
    keys: list[int] = []
    # The first frame is a keyframe; requests at 0.1-0.3 s are kept and served at 0.5 s.
    for index in range(20):
        clock[0] = index / 10
        payloads, _ = encoder.encode(_frame(image, index), force_keyframe=index in (1, 2, 3, 12))
        assert payloads
        if encoder.stats.keyframes > len(keys):
            keys.append(index)
    assert keys == [0, 5, 12]
    assert encoder.stats.keyframes_deferred == 3


@pytest.mark.parametrize("rate_control", ["qp", "crf"])
def test_encoder_ignores_small_bitrate_moves_and_rebuilds_on_new_size(rate_control: str) -> None:
    encoder = TunedH264Encoder(H264Settings(threads=1, rate_control=rate_control, start_bitrate=None))
    image = _picture(seed=4)
    encoder.encode(_frame(image, 0))
    for index, target in enumerate([2_700_000, 3_300_000, 2_000_000], start=1):
        encoder.target_bitrate = target
        encoder.encode(_frame(image, index))
    assert encoder.stats.rebuilds == 0
    assert encoder.stats.keyframes == 1
    encoder.encode(_frame(_picture(height=240, width=320), 10))
    assert encoder.stats.rebuilds == 1
    assert encoder.stats.keyframes == 2


def test_encoder_needs_timestamps() -> None:
    with pytest.raises(ValueError):
        TunedH264Encoder().encode(av.VideoFrame(64, 48, "yuv420p"))


def test_following_cap_drops_at_once_when_the_receiver_reports_losses() -> None:
    cap = BitrateCap.following(H264Settings(min_bitrate=300_000, max_bitrate=3_000_000))
    # The estimate is only a little under the cap and our P-frames are few (a keyframe
    # storm): no move on the estimate alone, but losses say the path is full.
    assert not cap.update(2_400_000, sent_bps=100_000, now=0.0)
    assert not cap.update(2_400_000, sent_bps=100_000, now=0.1, loss=0.05)  # random loss
    assert cap.update(2_400_000, sent_bps=100_000, now=0.2, loss=0.12)  # cut by half the loss
    assert cap.cap == 2_820_000
    assert cap.update(2_400_000, sent_bps=100_000, now=0.3, loss=0.12)  # and the estimate at once
    assert cap.cap == 2_400_000
    # No estimate yet (aiortc's receiver waits 3 s) and 40 % asked for again: cut by 20 %,
    # then again 0.3 s later if it goes on; random loss of a few percent cuts nothing.
    fresh = BitrateCap.following(H264Settings(min_bitrate=300_000, max_bitrate=3_000_000))
    assert fresh.update(3_000_000, sent_bps=2_000_000, now=0.0, loss=0.4)
    assert fresh.cap == 2_400_000
    assert not fresh.update(3_000_000, sent_bps=2_000_000, now=0.1, loss=0.4)
    assert fresh.update(3_000_000, sent_bps=2_000_000, now=0.3, loss=0.4)
    assert fresh.cap == 1_920_000
    assert not fresh.update(1_000_000, sent_bps=500_000, now=1.0, loss=0.02)


def test_large_screens_are_encoded_at_1080p_worth_of_pixels() -> None:
    settings = H264Settings(threads=1, start_bitrate=None)
    assert settings.encoded_size(1920, 1080) == (1920, 1080)
    assert settings.encoded_size(2560, 1440) == (1920, 1080)
    assert settings.encoded_size(3840, 2160) == (1920, 1080)
    assert settings.encoded_size(3000, 2000) == (1762, 1174)  # aspect kept, even sides
    assert H264Settings(max_pixels=None).encoded_size(3840, 2160) == (3840, 2160)
    encoder = TunedH264Encoder(settings)
    decoder = H264Decoder()
    image = _smooth(2160, 3840)
    payloads, timestamp = encoder.encode(_frame(image, 0))
    decoded = _decode(decoder, payloads, timestamp)
    assert [(f.width, f.height) for f in decoded] == [(1920, 1080)]
    assert encoder.canvas.scaled == 1


def _sizes(
    encoder: TunedH264Encoder, decoder: H264Decoder, image: npt.NDArray[np.uint8], index: int
) -> list[tuple[int, int]]:
    payloads, timestamp = encoder.encode(_frame(image, index))
    if not payloads:
        return []  # skipped: the link is behind
    return [(f.width, f.height) for f in _decode(decoder, payloads, timestamp)]


def test_the_first_keyframe_probes_the_path_small_and_the_estimate_sets_the_size() -> None:
    # A fast path: the probe keyframe is cut to the start cap at 0.75 of the size; the first
    # estimate (the operator's probe REMB) lifts the cap and the next frame is a full-size,
    # sharp keyframe.
    clock = [0.0]
    settings = H264Settings(threads=1, start_bitrate=1_000_000)
    encoder = TunedH264Encoder(settings, clock=lambda: clock[0])
    decoder = H264Decoder()
    image = _picture(1080, 1920, seed=3)
    assert encoder.constrained  # the start cap, until the path is measured
    assert _sizes(encoder, decoder, image, 0) == [(1440, 810)]
    probe_keyframe = encoder.stats.last_keyframe_bytes
    assert probe_keyframe <= 0.2 * 1_000_000 / 8 * 2  # about 200 ms of the start cap (coarse: QP 51)
    encoder.target_bitrate = 50_000_000  # what the probe measured on a LAN, clamped
    clock[0] = 0.05
    assert _sizes(encoder, decoder, image, 1) == [(1920, 1080)]
    stats = encoder.stats
    assert (encoder.probing, encoder.constrained) == (False, False)
    assert stats.keyframes == 2
    assert stats.cap_bps == 3_000_000
    assert stats.probe_s == pytest.approx(0.05)
    assert stats.last_qp is not None
    assert stats.last_qp <= settings.qp + 4  # sharp, not the probe's quantizer


def test_a_very_slow_path_keeps_the_smaller_size_and_a_lower_estimate_is_followed_at_once() -> None:
    clock = [0.0]
    encoder = TunedH264Encoder(H264Settings(threads=1), clock=lambda: clock[0])
    decoder = H264Decoder()
    image = _picture(1080, 1920, seed=7)
    assert _sizes(encoder, decoder, image, 0) == [(1440, 810)]
    encoder.target_bitrate = 450_000  # under low_rate_bps (500 kbit/s)
    for index in range(1, 20):
        clock[0] = index / 30
        image = _picture(1080, 1920, seed=index)  # noise: far more than the cap is sent
        assert _sizes(encoder, decoder, image, index) in ([(1440, 810)], [])  # [] when skipped
    assert encoder.constrained
    assert encoder.cap == 450_000
    assert encoder.stats.keyframes == 1  # no size change: no second keyframe
    # Queueing measured on that slow link: a lower estimate is followed at once (on a fast
    # path one decrease is not, see test_following_cap_tracks_the_estimate_within_a_second).
    encoder.target_bitrate = 350_000
    clock[0] = 1.0
    encoder.encode(_frame(image, 30))
    assert encoder.cap == 350_000


def test_a_dsl_or_mobile_path_gets_the_full_size_after_the_probe() -> None:
    # The probe's keyframe is small (0.75 scale, fits a shallow router buffer); a path of
    # 0.5 Mbit/s or more gets the full picture: a scroll's P-frames cost less at full size.
    clock = [0.0]
    for estimate in (1_500_000, 700_000):
        clock[0] = 0.0
        encoder = TunedH264Encoder(H264Settings(threads=1), clock=lambda: clock[0])
        decoder = H264Decoder()
        image = _picture(1080, 1920, seed=5)
        assert _sizes(encoder, decoder, image, 0) == [(1440, 810)]
        encoder.target_bitrate = estimate
        clock[0] = 0.3
        assert _sizes(encoder, decoder, image, 1) == [(1920, 1080)]
        assert encoder.constrained  # still a slow path: keyframes cut to it, frames skipped
        assert encoder.stats.keyframes == 2


def test_without_an_estimate_the_probe_ends_and_the_start_cap_stays() -> None:
    clock = [0.0]
    encoder = TunedH264Encoder(H264Settings(threads=1, probe_timeout_s=2.0), clock=lambda: clock[0])
    image = _picture(1080, 1920, seed=1)
    encoder.encode(_frame(image, 0))
    clock[0] = 2.5
    encoder.encode(_frame(image, 1))
    assert not encoder.probing
    assert encoder.cap == 1_000_000
    assert encoder.stats.probe_s is None


def test_the_size_goes_back_up_only_once_the_cap_has_held_high() -> None:
    clock = [0.0]
    settings = H264Settings(threads=1, scale_hold_s=3.0)
    encoder = TunedH264Encoder(settings, clock=lambda: clock[0])
    decoder = H264Decoder()
    image = _picture(1080, 1920, seed=7)
    _sizes(encoder, decoder, image, 0)
    encoder.target_bitrate = 400_000  # under low_rate_bps (500 kbit/s): the smaller size
    index = 1
    for t in (0.1, 1.0):
        clock[0] = t
        assert _sizes(encoder, decoder, image, index) in ([(1440, 810)], [])
        index += 1
    encoder.target_bitrate = 700_000  # the estimate climbs past 1.25 x the threshold
    for t in (1.5, 3.0, 4.4):
        clock[0] = t
        assert _sizes(encoder, decoder, image, index) in ([(1440, 810)], [])  # not yet: it must hold
        index += 1
    clock[0] = 4.6
    assert _sizes(encoder, decoder, image, index) == [(1920, 1080)]
    assert settings.scale_for(settings.low_rate_bps - 1) == 0.75
    assert settings.scale_for(settings.low_rate_bps) == 1.0
    assert settings.probe_scale((1920, 1080)) == 0.75
    assert settings.probe_scale((1280, 720)) == 1.0  # already small


def _text(height: int, width: int) -> npt.NDArray[np.uint8]:
    """Text-like detail: dark strokes on a light page, everywhere."""
    rng = np.random.default_rng(9)
    image = np.full((height, width, 4), 240, np.uint8)
    for _ in range(height * width // 800):
        y, x = int(rng.integers(0, height - 12)), int(rng.integers(0, width - 12))
        image[y : y + 2, x : x + int(rng.integers(3, 12)), :3] = 30
        image[y : y + 10, x : x + 2, :3] = 30
    return image


@pytest.mark.slow
def test_a_coarse_keyframe_on_a_slow_path_is_sharpened_in_stripes_from_the_top() -> None:
    clock = [0.0]
    settings = H264Settings(threads=1)
    encoder = TunedH264Encoder(settings, clock=lambda: clock[0])
    decoder = H264Decoder()
    image = _text(1080, 1920)
    source = image[..., 2::-1]
    assert _sizes(encoder, decoder, image, 0) == [(1440, 810)]  # the probe
    encoder.target_bitrate = 1_500_000  # dsl: the full size, a keyframe cut to the link
    halves: list[tuple[float, float]] = []
    for index in range(1, 100):
        clock[0] = 0.3 + index / 30
        payloads, timestamp = encoder.encode(_frame(image, index))
        for picture in _decode(decoder, payloads, timestamp) if payloads else []:
            rgb = np.asarray(picture.to_ndarray(format="rgb24"), np.uint8)
            halves.append((psnr_luma(rgb[:540], source[:540]), psnr_luma(rgb[540:], source[540:])))
    stats = encoder.stats
    assert stats.keyframes == 2  # the probe and the full-size one: no more
    assert stats.stripes > 10
    first, last = halves[0], halves[-1]
    assert max(first) < 30  # the full-size keyframe is coarse (cut to 200 ms of the link)
    # Top down: at some point the upper half is sharp while the lower one is still coarse,
    # and in the end the whole picture is sharp.
    assert any(top > bottom + 10 for top, bottom in halves)
    assert min(last) > 40
    # A fast path keeps the plain constant quantizer: no stripes, no CRF analysis.
    lan = TunedH264Encoder(settings, clock=lambda: clock[0])
    clock[0] = 0.0
    lan.encode(_frame(image, 0))
    lan.target_bitrate = 50_000_000
    for index in range(1, 5):
        clock[0] = index / 30
        lan.encode(_frame(image, index))
    assert lan.stats.stripes == 0


def test_probe_and_scale_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        H264Settings(start_bitrate=100_000)  # under min_bitrate
    with pytest.raises(ValueError):
        H264Settings(low_rate_scale=0.1)


def test_a_small_picture_has_nothing_to_probe_with_and_keeps_its_size() -> None:
    encoder = TunedH264Encoder(H264Settings(threads=1))
    decoder = H264Decoder()
    assert _sizes(encoder, decoder, _smooth(), 0) == [(640, 360)]  # a keyframe of a few packets
    assert not encoder.probing
    assert encoder.cap == 3_000_000
    # The probe's coarse keyframe is sharpened at once: a repeat of the still picture is asked
    # for (see AgentPeer) and coded at the quality quantizer.
    refining = [encoder.refining]
    assert _sizes(encoder, decoder, _smooth(), 1) == [(640, 360)]
    assert encoder.stats.last_qp == 18
    refining.append(encoder.refining)
    assert refining == [True, False]
    assert H264Settings().scale_for(400_000, (1280, 720)) == 1.0  # 960x540 would be too small
    assert H264Settings().scale_for(400_000, (1920, 1080)) == 0.75
