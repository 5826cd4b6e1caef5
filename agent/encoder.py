"""The agent's tuned H.264 encoder: a small extension of aiortc's, for screens and low latency.

aiortc 1.16's ``H264Encoder`` runs libx264 at its default ``medium`` preset with
level 3.1 whatever the picture size, converts BGRA with swscale's default filter,
targets an average bitrate (ABR) and builds a new encoder - starting with a keyframe -
whenever the bitrate target moves by more than 10 %, which with send-on-change
(bursty traffic, so a jumpy receiver estimate) means keyframes all the time.

:class:`TunedH264Encoder` keeps aiortc's RTP packetization (FU-A/STAP-A) and changes
only how frames become H.264:

* ``ultrafast`` + ``zerolatency``: no lookahead, no B-frames, sliced threads, so a
  frame leaves the encoder as soon as it is encoded (about 3 ms for 1080p on two cores);
* the level computed from the picture size and frame rate (4.0 for 1080p30, not 3.1);
* a quantizer chosen per frame (:mod:`agent.rate_control`): one quality for text
  (``qp``), raised only when a bitrate cap would overflow. x264 is driven through
  its own API (:mod:`agent.x264`), which takes a quantizer with every picture; CRF
  through PyAV would cost ~4 ms more CPU per 1080p frame for x264's lookahead
  analysis. Without a usable libx264 build the encoder falls back to PyAV's codec
  with CRF under a VBV cap (``rate_control="crf"``);
* keyframes only when the receiver asks (PLI/FIR, which aiortc's sender turns into
  ``force_keyframe``) or when the picture size changes; a scene change is coded as a
  P-frame whose macroblocks x264 codes intra by its own mode decision, which costs the
  same bits as an IDR without resetting the reference;
* the bitrate cap follows the receiver's estimate only when it really moved (see
  :class:`BitrateCap`); with the per-frame quantizer a move costs nothing, with the
  CRF fallback it rebuilds the encoder (a keyframe);
* the path is probed first: until the receiver's first estimate the cap is
  ``start_bitrate`` and the first keyframe, cut to it, is the burst the operator measures
  the link with (``client_core.path_probe``), at 0.75 scale (it must fit a shallow
  router buffer); under 500 kbit/s of cap a large picture is encoded at 0.75 scale
  (``H264Settings.scale_for`` says why);
* on a slow path a keyframe cut coarse to the link is sharpened by refresh stripes, a few
  macroblock rows a frame at the quality quantizer (``TunedH264Encoder._stripe``), not by
  refining the whole picture at once (a freeze per frame);
* motion searched with ``umh`` over 64 px, not ``ultrafast``'s 16 px diamond: a scroll
  moves the whole page (``H264Settings.x264_options``);
* BGRA -> yuv420p with a persistent swscale context and the ``AREA`` filter (correct
  2x2 chroma averaging), chroma converted at full resolution by swscale's SIMD code
  (:mod:`agent.swscale`; PyAV's reformatter as the fallback), redoing only the rows
  that changed since the previous frame (:class:`YuvCanvas`): a caret blink or a few
  typed glyphs cost a sliver of the ~4 ms a full 1080p conversion takes, and a
  keep-alive (the same picture again) costs nothing.

Verified against aiortc 1.16.0 (it relies on ``H264Encoder._split_bitstream`` and
``H264Encoder._packetize``); :mod:`client_core.rtc_tuning` refuses to install it on
another aiortc version.
"""

from __future__ import annotations

import ctypes
import dataclasses
import fractions
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from aiortc.codecs.h264 import H264Encoder
from aiortc.mediastreams import VIDEO_TIME_BASE, convert_timebase
from av.frame import Frame
from av.video.reformatter import Interpolation, VideoReformatter

from agent import swscale, x264
from agent.capture.change import Change, changed_rows
from agent.rate_control import QpControl, QpSettings

__all__ = [
    "BitrateCap",
    "EncoderStats",
    "H264Settings",
    "TunedH264Encoder",
    "YuvCanvas",
    "h264_level",
]

logger = logging.getLogger(__name__)

# H.264 Table A-1: level_idc -> (MaxMBPS macroblocks/s, MaxFS macroblocks per frame).
_LEVELS: tuple[tuple[int, int, int], ...] = (
    (31, 108_000, 3_600),
    (32, 216_000, 5_120),
    (40, 245_760, 8_192),
    (42, 522_240, 8_704),
    (50, 589_824, 22_080),
    (51, 983_040, 36_864),
    (52, 2_073_600, 36_864),
    (60, 4_177_920, 139_264),
    (61, 8_355_840, 139_264),
    (62, 16_711_680, 139_264),
)


def h264_level(width: int, height: int, fps: float) -> int:
    """The lowest H.264 ``level_idc`` (31 at least) that allows this size at this rate.

    31 is the floor because it is what aiortc's SDP announces (profile-level-id
    42e01f); 1080p30 needs 40. Beyond 6.2 the highest level is returned.
    """
    if width <= 0 or height <= 0 or fps <= 0:
        raise ValueError("width, height and fps must be positive")
    macroblocks = ((width + 15) // 16) * ((height + 15) // 16)
    for level, max_mbps, max_fs in _LEVELS:
        # Also the per-dimension limit: neither side may exceed sqrt(8 * MaxFS) macroblocks.
        side_limit = (8 * max_fs) ** 0.5
        if (
            macroblocks <= max_fs
            and macroblocks * fps <= max_mbps
            and max((width + 15) // 16, (height + 15) // 16) <= side_limit
        ):
            return level
    return _LEVELS[-1][0]


@dataclasses.dataclass(frozen=True)
class H264Settings:
    """How :class:`TunedH264Encoder` drives libx264.

    ``rate_control`` is ``"qp"`` (a quantizer per frame through :mod:`agent.x264`:
    ``qp`` when the cap allows, up to ``max_qp``) or ``"crf"`` (PyAV's codec, constant
    quality ``crf``; also the fallback when libx264 cannot be bound). Lower is better;
    qp 18 and crf 23 keep 1080p text above 40 dB luma PSNR (41.9 and 42.5 dB in the
    benchmark's 1080p scroll). ``max_bitrate`` is the cap the encoder starts with and
    never exceeds, ``min_bitrate`` the lowest cap the receiver's estimate can push it
    to, ``vbv_seconds`` the buffer in seconds of the cap (a keyframe of a text screen
    is several hundred kilobytes). ``threads`` 0 means one per core, at most 4.
    Keyframe requests are served at most once per ``keyframe_interval_s``: a request
    inside it is kept and served by the first frame after it (a receiver that lost
    part of a keyframe asks again and again while the next one is still on its way;
    each answer is hundreds of kilobytes).
    """

    preset: str = "ultrafast"
    tune: str = "zerolatency"
    rate_control: str = "qp"
    qp: int = 18
    max_qp: int = 44
    crf: int = 23
    max_bitrate: int = 3_000_000
    min_bitrate: int = 300_000
    vbv_seconds: float = 2.0
    max_fps: float = 30.0
    threads: int = 0
    keyframe_interval_s: float = 0.5
    max_pixels: int | None = 1920 * 1080
    motion_search: str = "umh"
    motion_range: int = 64
    start_bitrate: int | None = 1_000_000
    """The cap until the path is measured (None: start at ``max_bitrate``, as on a known
    LAN). The first keyframe is cut to it and leaves as one burst: the operator measures
    the link from how the burst spreads and answers with a REMB (``client_core.path_probe``);
    the first REMB ends the probe, ``probe_timeout_s`` after the first frame without one
    (a receiver that does not probe) the cap stays at the start until estimates come."""
    probe_timeout_s: float = 2.0
    low_rate_bps: int = 500_000
    """Below this cap the picture is encoded at ``low_rate_scale`` of its size (see
    :meth:`scale_for`); back at full size once the cap has stayed 1.25 x above it for
    ``scale_hold_s``."""
    low_rate_scale: float = 0.75
    scale_hold_s: float = 3.0
    min_scaled_pixels: int = 1280 * 720
    stripe_refresh: bool = True
    """On a slow path, sharpen a coarse keyframe in stripes (see ``TunedH264Encoder._stripe``)."""
    stripe_share: float = 0.5
    """The share of a frame's budget a refresh stripe may take (at least one macroblock row)."""
    stripe_hold: bool = True
    """While a stripe sweeps, the quantizer of the rest of the picture does not walk down
    (which would refine the whole picture at once: large frames, each a freeze)."""

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 51:
            raise ValueError("crf must be 0..51")
        if self.rate_control not in ("qp", "crf"):
            raise ValueError("rate_control must be 'qp' or 'crf'")
        if not 0 <= self.qp <= self.max_qp <= 51:
            raise ValueError("need 0 <= qp <= max_qp <= 51")
        if not 0 < self.min_bitrate <= self.max_bitrate:
            raise ValueError("need 0 < min_bitrate <= max_bitrate")
        if self.keyframe_interval_s < 0:
            raise ValueError("keyframe_interval_s must be >= 0")
        if self.vbv_seconds <= 0 or self.max_fps <= 0 or self.threads < 0:
            raise ValueError("vbv_seconds and max_fps must be positive, threads >= 0")
        if self.start_bitrate is not None and not self.min_bitrate <= self.start_bitrate <= self.max_bitrate:
            raise ValueError("start_bitrate must lie between min_bitrate and max_bitrate")
        if not 0.25 <= self.low_rate_scale <= 1.0 or self.probe_timeout_s < 0 or self.scale_hold_s < 0:
            raise ValueError("need 0.25 <= low_rate_scale <= 1, probe_timeout_s and scale_hold_s >= 0")

    def encoded_size(self, width: int, height: int) -> tuple[int, int]:
        """The size a ``width`` x ``height`` picture is encoded at: at most ``max_pixels``,
        same aspect, even sides. 2560x1440 -> 1920x1080 (x0.75), 3840x2160 -> 1920x1080 (x0.5)."""
        if self.max_pixels is None or width * height <= self.max_pixels:
            return width, height
        factor = (self.max_pixels / (width * height)) ** 0.5
        return max(2, int(width * factor) & ~1), max(2, int(height * factor) & ~1)

    def scale_for(self, cap: float, size: tuple[int, int] | None = None) -> float:
        """The linear scale a picture of ``size`` is encoded at under ``cap`` (before hysteresis).

        The rule, for screen content: frame rate goes first (the rate control skips frames
        on a slow link), resolution only when the cap is below ``low_rate_bps``, and then
        to ``low_rate_scale`` (0.75) of the size and never further. At 0.75 a 1080p desktop's
        12 px text (9 pt at 96 dpi) is 9 px high: still legible, Japanese included, where
        half size (6 px) is not. The threshold, 500 kbit/s: a scaled picture's keyframes are
        smaller (1080p text at QP 51: 74 KB, at 0.75: 42 KB) but its *scrolled* P-frames are
        not - the resampled text is denser and x264 finds the motion less well (offline,
        ``python -m benchmarks.scroll_codec``: 10 fps, QP 30: 4.3 KB a frame at full size,
        4.0 KB at 0.75 with less detail kept; QP 24: 5.2 KB against 8.7 KB). Simulated
        scroll at a fixed estimate (``--cap``), mean luma PSNR of seconds 3-18: full size
        37.9 dB against 34.2 dB at 0.75 at 1 Mbit/s, 32.3 against 30.5 at 650 kbit/s; at
        400 kbit/s the smaller picture wins (28.0 against 26.0). (The threshold was
        2 Mbit/s, which kept `dsl` at 0.75 scale and 26-28 dB.) A picture that would come
        out under ``min_scaled_pixels`` (1280 x 720) is not scaled: its text is already as
        small as a screen shows it, and its keyframes are small anyway. The path probe's
        keyframe is scaled whatever the cap (see :meth:`probe_scale`)."""
        if cap >= self.low_rate_bps:
            return 1.0
        if size is not None and size[0] * size[1] * self.low_rate_scale**2 < self.min_scaled_pixels:
            return 1.0
        return self.low_rate_scale

    def probe_scale(self, size: tuple[int, int]) -> float:
        """The scale of the first picture, sent while the path is unknown: ``low_rate_scale``
        (unless that makes it too small, as in :meth:`scale_for`). Its keyframe is the probe
        burst and leaves unpaced, so it must fit a shallow router buffer: 1080p text at QP 51
        is ~74 KB, over `dsl`'s 250 ms (62.5 KB at 2 Mbit/s); at 0.75 ~42 KB. Once the path
        is measured, :meth:`scale_for` picks the size at once (a fast path: full size)."""
        return self.scale_for(0, size)

    def thread_count(self) -> int:
        return self.threads or max(1, min(os.cpu_count() or 1, 4))

    def codec_options(self, cap: int) -> dict[str, str]:
        """The libx264 options (``AVCodecContext`` and x264 private) for a VBV cap in bit/s."""
        return {
            "preset": self.preset,
            "tune": self.tune,
            "crf": str(self.crf),
            "maxrate": str(cap),
            "bufsize": str(round(cap * self.vbv_seconds)),
            # No periodic keyframes (the receiver asks with PLI/FIR when it needs one)
            # and no scene-cut IDRs; repeat SPS/PPS with every IDR so any keyframe decodes alone.
            "x264-params": "keyint=infinite:scenecut=0:repeat-headers=1",
            "threads": str(self.thread_count()),
        }

    def x264_options(self, level: int) -> dict[str, str]:
        """The x264 options (``x264_param_parse`` names) for :class:`agent.x264.X264Encoder`.

        ``me``/``merange``: ``ultrafast`` searches motion with ``dia`` over 16 px, which
        finds a scrolled page only near the predicted vector; ``umh`` over 64 px finds it
        wherever the scroll went. Measured offline (``python -m benchmarks.scroll_codec``,
        1080p text scroll, QP 24): P-frames 30 % smaller at 30 fps (4 px a frame), 27 % at
        10 fps (12 px), same PSNR, +0.3-0.6 ms of x264 CPU a frame."""
        return {
            "me": self.motion_search,
            "merange": str(self.motion_range),
            "keyint": "infinite",
            "scenecut": "0",
            "repeat-headers": "1",
            "threads": str(self.thread_count()),
            "level": f"{level // 10}.{level % 10}",
            "fps": f"{self.max_fps:g}",
        }

    def qp_settings(self) -> QpSettings:
        return QpSettings(base_qp=self.qp, max_qp=self.max_qp, buffer_s=self.vbv_seconds, fps=self.max_fps)


class BitrateCap:
    """When the bitrate cap follows the receiver's bitrate estimate (REMB).

    aiortc feeds the receiver's estimate into ``target_bitrate`` (aiortc's receiver
    sends one every 0.5 s, and at once when it detects queueing). With send-on-change
    the estimate is meaningless while the screen is quiet (it follows the incoming
    rate down towards nothing), so the cap goes *down* only while we actually send
    more than the estimate (real congestion, not an idle screen), and up whenever the
    estimate is above it. The cap is ``headroom`` times the estimate: never a standing
    queue at the bottleneck.

    ``factor`` and ``hold_s`` add hysteresis: the cap moves only when the estimate has
    been at least ``factor`` away for ``hold_s`` seconds. The per-frame quantizer needs
    none (a move costs nothing: the bucket simply drains at the new rate), so it follows
    at once (``BitrateCap.following``); the CRF fallback rebuilds its encoder - a
    keyframe - at every move and keeps 2x / 3 s. Pure: time and the sent rate are
    passed in.
    """

    def __init__(
        self,
        settings: H264Settings,
        *,
        factor: float = 2.0,
        hold_s: float = 3.0,
        headroom: float = 1.0,
        up_at_once: bool = False,
        sent_factor: float = 1.0,
        down_at_once_when_slow: bool = False,
    ) -> None:
        if factor < 1.0 or hold_s < 0 or not 0 < headroom <= 1:
            raise ValueError("need factor >= 1, hold_s >= 0 and 0 < headroom <= 1")
        self.settings = settings
        self.factor = factor
        self.hold_s = hold_s
        self.headroom = headroom
        self.up_at_once = up_at_once
        self.sent_factor = sent_factor
        self.down_at_once_when_slow = down_at_once_when_slow
        self.slow_path = False
        """Set by the encoder when the path was measured slower than the maximum (its probe):
        then a lower estimate is followed at once (``down_at_once_when_slow``)."""
        self.cap = settings.max_bitrate
        self._away_since: float | None = None
        self._loss_cut_at: float | None = None

    @classmethod
    def following(cls, settings: H264Settings) -> BitrateCap:
        """For the per-frame quantizer: up at once; down when, for 1 s, the estimate has been
        a third or more under the cap *and* under 0.7 x what our P-frames alone send (a
        keyframe burst says nothing about the path). aiortc's estimator answers queueing
        with 0.85 x the incoming rate, so one decrease - a false alarm on a busy machine's
        loopback as often as not - never moves the cap; only repeated decreases (a real
        bottleneck) or losses (see ``update``) do. Measured: following each decrease
        spiralled the LAN scroll down to 9 fps and 32 dB; requiring the estimate under the
        P-frame rate alone still did in a 15 s run (11 fps, 37 dB)."""
        return cls(
            settings,
            factor=1.5,
            hold_s=1.0,
            headroom=1.0,
            up_at_once=True,
            sent_factor=0.7,
            down_at_once_when_slow=True,
        )

    def clamp(self, bitrate: int) -> int:
        return max(self.settings.min_bitrate, min(int(bitrate), self.settings.max_bitrate))

    def update(self, target: int, sent_bps: float, now: float, *, loss: float = 0.0) -> bool:
        """Note the current target; True when the cap moved. ``loss``: the share of what we
        sent in the last second that the receiver asked for again. Over ``LOSSY_FRACTION`` the
        path is full (a keyframe burst there is no false alarm), so a lower estimate counts
        at once; over ``HEAVY_LOSS`` the cap is cut by half the loss every 0.3 s even without
        an estimate (aiortc's receiver sends none for its first 3 s), as libwebrtc's
        loss-based controller does."""
        lossy = loss > LOSSY_FRACTION
        if loss > HEAVY_LOSS and (self._loss_cut_at is None or now - self._loss_cut_at >= 0.3):
            cut = self.clamp(int(self.cap * (1.0 - 0.5 * min(loss, 1.0))))
            if cut < self.cap:
                logger.info("H.264 bitrate cap %d -> %d bit/s (%.0f %% lost)", self.cap, cut, 100 * loss)
                self.cap = cut
                self._loss_cut_at = now
                self._away_since = None
                return True
        target = self.clamp(int(target * self.headroom))
        if self.up_at_once and target > self.cap and not lossy:
            logger.debug("H.264 bitrate cap %d -> %d bit/s", self.cap, target)
            self.cap = target
            self._away_since = None
            return True
        up = target > self.cap and target >= self.cap * self.factor
        down = target < self.cap and target * self.factor <= self.cap and sent_bps * self.sent_factor > target
        if lossy and target < self.cap:
            logger.info("H.264 bitrate cap %d -> %d bit/s (losses)", self.cap, target)
            self.cap = target
            self._away_since = None
            return True
        if self.cap >= self.settings.max_bitrate:
            self.slow_path = False
        if self.down_at_once_when_slow and self.slow_path and target < self.cap and sent_bps >= 0.5 * target:
            # A path measured slow (the probe's burst spread at a real bottleneck): a lower
            # estimate is queueing there, not the loopback's CPU noise (on a fast path one
            # decrease is not followed: measured, that spiralled the LAN scroll down).
            logger.info("H.264 bitrate cap %d -> %d bit/s (queueing on a slow link)", self.cap, target)
            self.cap = target
            self._away_since = None
            return True
        if not (up or down):
            self._away_since = None
            return False
        if self._away_since is None:
            self._away_since = now
        if now - self._away_since < self.hold_s:
            return False
        logger.info("H.264 bitrate cap %d -> %d bit/s", self.cap, target)
        self.cap = target
        self._away_since = None
        return True


PROBE_MIN_PACKETS = 10
"""A probing keyframe needs this many packets (``client_core.path_probe.PathProbe``'s train)."""
LOSSY_FRACTION = 0.10
"""More retransmission requests than this share of the packets sent in the last second
means the path is full: the cap follows a lower estimate at once. Random loss of a few
percent is repaired, not answered with a lower rate (libwebrtc holds between 2 and 10 %;
measured: at 3 % the 5 % random-loss link dropped to 9 fps)."""
HEAVY_LOSS = 0.10
"""Above this the cap is cut by itself (random loss of a few percent is left to repair)."""

_BAND_MARGIN = 4
"""Rows of context converted on each side of a changed band: swscale's vertical chroma
filter reads beyond the 2-row pair it averages (tests prove the result is exact)."""
_FULL_BELOW = 0.5
"""Convert the whole picture when more than this fraction of its rows changed."""


def _plane(frame: av.VideoFrame, index: int) -> npt.NDArray[np.uint8]:
    plane = frame.planes[index]
    rows: npt.NDArray[np.uint8] = np.frombuffer(memoryview(plane), np.uint8).reshape(
        plane.height, plane.line_size
    )
    return rows[:, : plane.width]


def _same_buffer(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> bool:
    return bool(
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.strides == b.strides
    )


class YuvCanvas:
    """BGRA -> yuv420p for a stream of pictures, converting only what changed.

    Keeps the previous source picture (a reference: captured pictures are never
    written after the grab) and its yuv420p frame; the next picture's changed rows
    are converted with a few rows of context and copied into that frame. The band
    comes with the frame (``frame.opaque``, a :class:`agent.capture.Change` found on
    the grabber thread) when it was measured against this very previous picture;
    otherwise it is measured here. The frame is
    handed to the encoder and rewritten afterwards: libx264 copies its input during
    ``encode``. Counters: ``full``, ``partial``, ``reused`` conversions.
    """

    def __init__(self) -> None:
        self._reformatter = VideoReformatter()
        self._sws: swscale.BgraToYuv420 | None = None
        try:
            self._sws = swscale.BgraToYuv420()
        except swscale.SwscaleUnavailable as exc:
            logger.warning("BGRA conversion through PyAV's reformatter: %s", exc)
        self._source: npt.NDArray[np.uint8] | None = None
        self._yuv: av.VideoFrame | None = None
        self._scaled: av.VideoFrame | None = None
        self.size: tuple[int, int] | None = None
        """The size to encode at (None: the picture's own)."""
        self.scaled = 0
        self.full = 0
        self.partial = 0
        self.reused = 0

    @property
    def direct(self) -> bool:
        """True when BGRA is converted by :mod:`agent.swscale` (else PyAV's reformatter)."""
        return self._sws is not None

    def _convert(self, frame: av.VideoFrame) -> av.VideoFrame:
        return self._reformatter.reformat(
            frame, format="yuv420p", interpolation=Interpolation.AREA, threads=1
        )

    def _convert_bgra(self, image: npt.NDArray[np.uint8], out: av.VideoFrame | None = None) -> av.VideoFrame:
        if self._sws is not None:
            return self._sws.convert(image, out)
        return self._convert(av.VideoFrame.from_numpy_buffer(image, format="bgra"))

    def convert(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The yuv420p picture of ``frame`` (pts and time_base are the caller's to set),
        scaled to ``size`` when that is set and differs."""
        if self.size is not None and self.size != (frame.width, frame.height):
            return self._scale(frame, self.size)
        if frame.format.name == "yuv420p":
            return frame
        if frame.format.name != "bgra":
            self._source = self._yuv = None
            self.full += 1
            return self._convert(frame)
        image = cast(npt.NDArray[np.uint8], frame.to_ndarray())  # a view of the captured buffer, no copy
        previous, yuv = self._source, self._yuv
        self._source = image
        if yuv is None or previous is None or previous.shape != image.shape:
            return self._full(image)
        if _same_buffer(previous, image):
            self.reused += 1  # the same buffer again (a keep-alive)
            return yuv
        change = frame.opaque
        if isinstance(change, Change) and change.since is not None and _same_buffer(change.since, previous):
            rows: tuple[int, int] | None = change.rows  # found on the grabber thread
        else:
            rows = changed_rows(previous, image)  # frames from elsewhere, or one dropped between
        if rows is None:
            self.reused += 1
            return yuv
        height = image.shape[0]
        first, end = rows[0] & ~1, min(height, (rows[1] + 1) & ~1)
        if (end - first) > _FULL_BELOW * height:
            return self._full(image, into=yuv)
        start, stop = max(0, first - _BAND_MARGIN), min(height, end + _BAND_MARGIN)
        band = self._convert_bgra(image[start:stop])
        _plane(yuv, 0)[first:end] = _plane(band, 0)[first - start : end - start]
        for index in (1, 2):
            _plane(yuv, index)[first // 2 : end // 2] = _plane(band, index)[
                (first - start) // 2 : (end - start) // 2
            ]
        self.partial += 1
        return yuv

    def _scale(self, frame: av.VideoFrame, size: tuple[int, int]) -> av.VideoFrame:
        # A large screen sent at fewer pixels: the whole picture every time (a changed band
        # would need the scaler's filter edges); into one recycled frame (x264 copies it).
        self._source = self._yuv = None
        self.scaled += 1
        if frame.format.name == "bgra" and self._sws is not None:
            out = self._scaled
            if out is None or (out.width, out.height) != size:
                out = self._scaled = av.VideoFrame(size[0], size[1], "yuv420p")
            return self._sws.convert(cast(npt.NDArray[np.uint8], frame.to_ndarray()), out)
        return frame.reformat(
            width=size[0], height=size[1], format="yuv420p", interpolation=Interpolation.AREA, threads=1
        )

    def _full(self, image: npt.NDArray[np.uint8], into: av.VideoFrame | None = None) -> av.VideoFrame:
        # With the direct converter the frame of the previous picture is rewritten in place
        # (libx264 copied it during encode); PyAV's reformatter returns a new one.
        self._yuv = self._convert_bgra(image, into)
        self.full += 1
        return self._yuv


@dataclasses.dataclass(frozen=True)
class EncoderStats:
    """Counters since the encoder was created; ``encode_cpu_s`` is the calling thread's CPU time.

    ``backend`` is ``"x264-qp"`` or ``"pyav-crf"``; ``last_qp`` the quantizer of the last
    frame and ``qp_sum`` the sum over all frames (per-frame quantizer only; divide by
    ``frames`` for the mean), ``cap_bps`` the bitrate cap in force,
    ``keyframes_deferred`` the keyframe requests that came too soon after a keyframe
    (served by the first frame after the interval), ``skipped`` the pictures left out
    because the link was behind, ``scale`` the linear scale of the picture now (below
    1 on a slow link), ``probe_s`` how long after the first frame the path's first
    estimate came (None: not yet, or no probe), ``stripes`` the frames that carried a
    refresh stripe (see ``TunedH264Encoder._stripe``)."""

    frames: int
    keyframes: int
    bytes: int
    last_keyframe_bytes: int
    rebuilds: int
    encode_cpu_s: float
    backend: str = ""
    last_qp: int | None = None
    qp_sum: int = 0
    cap_bps: int = 0
    keyframes_deferred: int = 0
    skipped: int = 0
    scale: float = 1.0
    probe_s: float | None = None
    stripes: int = 0


class TunedH264Encoder(H264Encoder):
    """aiortc's H.264 encoder with the settings above; same ``encode``/``pack`` contract.

    ``on_encoded(size, keyframe)`` is called after every encoded frame (on the
    encoder's executor thread).
    """

    def __init__(
        self,
        settings: H264Settings | None = None,
        *,
        on_encoded: Callable[[int, bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or H264Settings()
        self._target = self.settings.max_bitrate
        self._on_encoded = on_encoded
        self._clock = clock
        self._canvas = YuvCanvas()
        self._codec: av.video.codeccontext.VideoCodecContext | None = None
        self._x264: x264.X264Encoder | None = None
        self._qp = QpControl(self.settings.qp_settings(), self.settings.max_bitrate)
        self._last_qp: int | None = None
        self._stripe_row: int | None = None
        self._stripes = 0
        self._qp_sum = 0
        self._last_keyframe_at: float | None = None
        self._keyframe_pending = False
        self._keyframes_deferred = 0
        self.backend = "pyav-crf"
        if self.settings.rate_control == "qp":
            try:
                x264.load()
                self.backend = "x264-qp"
            except x264.X264Unavailable as exc:
                logger.warning("per-frame quantizer unavailable, using PyAV's CRF: %s", exc)
        self._policy = (
            BitrateCap.following(self.settings) if self.backend == "x264-qp" else BitrateCap(self.settings)
        )
        start = self.settings.start_bitrate
        self._probing = start is not None and start < self.settings.max_bitrate
        self._estimated = False
        self._first_frame_at: float | None = None
        self._probe_s: float | None = None
        self._repeat_wanted = False
        if self._probing and start is not None:
            self._policy.cap = self._policy.clamp(start)
        self._qp.cap = self._policy.cap
        self._qp.constrained = self._policy.cap < self.settings.max_bitrate
        self._scale = 1.0  # chosen with the first picture's size
        self._size: tuple[int, int] | None = None
        self._scale_at: float | None = None
        self._scale_wanted_since: float | None = None
        self._lock = threading.Lock()
        self._sent: list[tuple[float, int]] = []
        self._packets: list[tuple[float, int]] = []
        self._nacks: list[tuple[float, int]] = []
        self._frames = 0
        self._keyframes = 0
        self._bytes = 0
        self._last_keyframe_bytes = 0
        self._rebuilds = 0
        self._cpu_s = 0.0
        super().__init__()

    # aiortc's sender writes the receiver's estimate here (REMB); see BitrateCap.
    @property
    def target_bitrate(self) -> int:
        return self._target

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        self._target = self._policy.clamp(bitrate)
        self._estimated = True

    @property
    def probing(self) -> bool:
        """True until the path's first estimate (or the probe's timeout): the first keyframe,
        cut to the start cap, leaves unpaced so the receiver can measure the link with it."""
        return self._probing

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def cap(self) -> int:
        """The VBV maximum rate in force, bit/s."""
        return self._policy.cap

    @property
    def constrained(self) -> bool:
        """True when the path's estimate holds the cap below the maximum (a slow link)."""
        return self._qp.constrained

    @property
    def refining(self) -> bool:
        """True while, on a slow link, the picture is coarser than the quality quantizer
        (after a keyframe cut to the link): the next frames, even repeats of a still
        picture, sharpen it. Never on a LAN (extra repeats there only cost bits and CPU)."""
        if self._repeat_wanted:
            return True  # the probe ended on a fast path: the next frame is the sharp one
        return self.backend == "x264-qp" and self._qp.constrained and self._qp.qp > self.settings.qp

    @property
    def stats(self) -> EncoderStats:
        with self._lock:
            return EncoderStats(
                frames=self._frames,
                keyframes=self._keyframes,
                bytes=self._bytes,
                last_keyframe_bytes=self._last_keyframe_bytes,
                rebuilds=self._rebuilds,
                encode_cpu_s=self._cpu_s,
                backend=self.backend,
                last_qp=self._last_qp,
                qp_sum=self._qp_sum,
                cap_bps=self._policy.cap,
                keyframes_deferred=self._keyframes_deferred,
                skipped=self._qp.skipped,
                scale=self._scale,
                probe_s=self._probe_s,
                stripes=self._stripes,
            )

    def _open(self, width: int, height: int) -> av.video.codeccontext.VideoCodecContext:
        codec = av.CodecContext.create("libx264", "w")
        codec.width = width
        codec.height = height
        codec.pix_fmt = "yuv420p"
        # Frames carry 90 kHz capture timestamps; the rate is only a hint for VBV accounting.
        codec.time_base = VIDEO_TIME_BASE
        codec.framerate = fractions.Fraction(round(self.settings.max_fps * 1000), 1000)
        codec.profile = "Baseline"
        options = self.settings.codec_options(self._policy.cap)
        options["level"] = str(h264_level(width, height, self.settings.max_fps))
        codec.options = options
        logger.info("libx264 %dx%d opened: %s", width, height, options)
        return codec

    def note_retransmission_request(self, sequence_number: int) -> None:
        """The receiver asked for a packet again (called by the sender's glue, any thread)."""
        with self._lock:
            self._nacks.append((self._clock(), sequence_number))

    def _loss(self, now: float) -> float:
        with self._lock:
            self._nacks = [(t, seq) for t, seq in self._nacks if now - t <= 1.0]
            self._packets = [(t, n) for t, n in self._packets if now - t <= 1.0]
            sent = sum(n for _, n in self._packets)
            # Distinct packets: a packet asked for again at every retry is one loss.
            lost = len({seq for _, seq in self._nacks})
            return min(1.0, lost / sent) if sent >= 50 else 0.0

    def _sent_bps(self, now: float) -> float:
        # P-frame bits over the last second, for BitrateCap's "are we really sending that much".
        self._sent = [(t, n) for t, n in self._sent if now - t <= 1.0]
        return sum(n for _, n in self._sent) * 8.0

    @property
    def canvas(self) -> YuvCanvas:
        return self._canvas

    def _follow_path(self, now: float) -> bool:
        """Ends the probe when due, lets the cap follow the estimate; True when the cap moved."""
        if self._first_frame_at is None:
            self._first_frame_at = now
        moved = False
        if self._probing:
            if self._estimated:
                self._probe_s = now - self._first_frame_at
                self._end_probe(now, self._policy.clamp(self._target))
                logger.info("path measured: cap %d bit/s, scale %.2f", self._policy.cap, self._scale)
                moved = True
            elif now - self._first_frame_at >= self.settings.probe_timeout_s:
                self._probing = False
                logger.info(
                    "no path estimate after %.1f s: cap stays %d bit/s",
                    now - self._first_frame_at,
                    self._policy.cap,
                )
        else:
            moved = self._policy.update(self._target, self._sent_bps(now), now, loss=self._loss(now))
            self._choose_scale(now)
        self._qp.cap = self._policy.cap
        self._qp.constrained = self._policy.cap < self.settings.max_bitrate
        return moved

    def _end_probe(self, now: float, cap: int) -> None:
        self._probing = False
        self._policy.cap = cap
        self._policy.slow_path = cap < self.settings.max_bitrate
        if not self._policy.slow_path:
            # A fast path: the probe's coarse keyframe is sharpened by the next frame at the
            # quality quantizer (a repeat of a still picture is asked for: see ``refining``),
            # or replaced by a full-size keyframe when the size changes below.
            self._qp.restart()
            self._repeat_wanted = True
        self._qp.cap = cap
        self._qp.constrained = self._policy.slow_path
        self._choose_scale(now, at_once=True)

    def _choose_scale(self, now: float, *, at_once: bool = False) -> None:
        # Down at once (the pixels no longer fit), up once the cap has held 1.25 x above the
        # threshold for scale_hold_s; never twice within scale_hold_s (each change is a keyframe).
        s = self.settings
        want = s.scale_for(self._policy.cap, self._size)
        if want == self._scale:
            self._scale_wanted_since = None
            return
        if want > self._scale and self._policy.cap < 1.25 * s.low_rate_bps and not at_once:
            self._scale_wanted_since = None
            return
        if self._scale_wanted_since is None:
            self._scale_wanted_since = now
        recent = self._scale_at is not None and now - self._scale_at < s.scale_hold_s
        held = now - self._scale_wanted_since >= s.scale_hold_s
        if at_once or (want < self._scale and not recent) or (want > self._scale and held and not recent):
            logger.info("encoded scale %.2f -> %.2f (cap %d bit/s)", self._scale, want, self._policy.cap)
            self._scale = want
            self._scale_at = now
            self._scale_wanted_since = None

    def _to_yuv(self, frame: av.VideoFrame) -> av.VideoFrame:
        size = self.settings.encoded_size(frame.width, frame.height)
        if self._size is None:  # the first picture: the probe's size, or its size at the start cap
            s = self.settings
            self._scale = s.probe_scale(size) if self._probing else s.scale_for(self._policy.cap, size)
        self._size = size
        if self._scale < 1.0:
            size = (max(2, int(size[0] * self._scale) & ~1), max(2, int(size[1] * self._scale) & ~1))
        self._canvas.size = size if size != (frame.width, frame.height) else None
        yuv = self._canvas.convert(frame)
        yuv.pts = frame.pts
        yuv.time_base = frame.time_base
        return yuv

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, av.VideoFrame)
        if frame.pts is None or frame.time_base is None:
            raise ValueError("frames must carry pts and time_base")
        started = time.thread_time()
        now = self._clock()
        self._repeat_wanted = False
        moved = self._follow_path(now)
        yuv = self._to_yuv(frame)
        force_keyframe = self._keyframe_due(force_keyframe, now)
        timestamp = convert_timebase(frame.pts, frame.time_base, VIDEO_TIME_BASE)
        if (
            self.backend == "x264-qp"
            and not force_keyframe
            and self._x264 is not None
            and (yuv.width, yuv.height) == (self._x264.width, self._x264.height)
            and self._qp.skip(now)
        ):
            with self._lock:
                self._cpu_s += time.thread_time() - started
            return [], timestamp  # the link is behind: this picture is left out
        if self.backend == "x264-qp":
            data, keyframe = self._encode_x264(yuv, now, force_keyframe)
        else:
            data, keyframe = self._encode_pyav(yuv, moved, force_keyframe)
        payloads = self._packetize(self._split_bitstream(data)) if data else []
        if self._probing and keyframe and len(payloads) < PROBE_MIN_PACKETS:
            # Too few packets for the receiver to measure the link with (a small picture):
            # nothing to probe, and nothing this small floods a link. The estimate rules on.
            self._end_probe(now, self.settings.max_bitrate)
            logger.info("keyframe of %d packets: no path probe, cap %d bit/s", len(payloads), self.cap)
        with self._lock:
            self._frames += 1
            self._bytes += len(data)
            if keyframe:
                self._keyframes += 1
                self._last_keyframe_bytes = len(data)
                self._last_keyframe_at = now
            self._packets.append((now, len(payloads)))
            if not keyframe:  # a keyframe burst says nothing about the rate we keep up
                self._sent.append((now, len(data)))
            self._cpu_s += time.thread_time() - started
        if self._on_encoded is not None:
            self._on_encoded(len(data), keyframe)
        return payloads, timestamp

    def _keyframe_interval(self) -> float:
        # Not before the last keyframe has drained at the cap, and half as long again: a
        # receiver asking while it is still on its way must not get a second one in a row.
        drain = 8 * self._last_keyframe_bytes / max(1, self._policy.cap)
        if self._qp.constrained:  # the next one is cut to the link: it drains sooner
            drain = min(drain, 2 * self._qp.settings.keyframe_drain_s)
        return max(self.settings.keyframe_interval_s, 1.5 * drain)

    def keyframe_delay(self) -> float:
        """Seconds until a keyframe requested now can be sent (0: at once)."""
        last = self._last_keyframe_at
        if last is None:
            return 0.0
        return max(0.0, self._keyframe_interval() - (self._clock() - last))

    def _keyframe_due(self, requested: bool, now: float) -> bool:
        """Whether this frame is a keyframe: a request now or one kept from inside the interval."""
        wanted = requested or self._keyframe_pending
        last = self._last_keyframe_at
        if wanted and last is not None and now - last < self._keyframe_interval():
            if requested and not self._keyframe_pending:
                logger.debug("keyframe request %.0f ms after the last one: deferred", (now - last) * 1000)
            if requested:
                self._keyframes_deferred += 1
            self._keyframe_pending = True
            return False
        self._keyframe_pending = False
        return wanted

    def _encode_x264(self, yuv: av.VideoFrame, now: float, force_keyframe: bool) -> tuple[bytes, bool]:
        encoder = self._x264
        if encoder is None or (yuv.width, yuv.height) != (encoder.width, encoder.height):
            if encoder is not None:
                encoder.close()
                self._rebuilds += 1
            level = h264_level(yuv.width, yuv.height, self.settings.max_fps)
            options = self.settings.x264_options(level)
            # Per-macroblock quantizers (for refresh stripes) cost CRF's analysis: only on a
            # path measured slow, where frames are few; a LAN keeps the plain quantizer.
            per_macroblock = self.settings.stripe_refresh and self._qp.constrained
            encoder = self._x264 = x264.X264Encoder(
                yuv.width,
                yuv.height,
                preset=self.settings.preset,
                tune=self.settings.tune,
                options=options,
                per_macroblock=per_macroblock,
            )
            logger.info(
                "libx264 %dx%d opened (per-frame quantizer%s): %s",
                yuv.width,
                yuv.height,
                ", per-macroblock offsets" if per_macroblock else "",
                options,
            )
            force_keyframe = True  # a new encoder starts with an IDR anyway
            self._qp.restart()  # the last keyframe's size says nothing about this size
        self._qp.cap = self._policy.cap
        qp = self._qp.choose(now, keyframe=force_keyframe, pixels=yuv.width * yuv.height)
        offsets = None if force_keyframe else self._stripe(encoder, qp)
        planes = yuv.planes
        encoded = encoder.encode(
            (planes[0].buffer_ptr, planes[1].buffer_ptr, planes[2].buffer_ptr),
            (planes[0].line_size, planes[1].line_size, planes[2].line_size),
            pts=int(yuv.pts or 0),
            qp=qp,
            keyframe=force_keyframe,
            quant_offsets=offsets,
        )
        hold = offsets is not None and self.settings.stripe_hold
        self._qp.record(now, 8 * len(encoded.data), qp, keyframe=encoded.keyframe, hold=hold)
        if encoded.keyframe:
            coarse = qp > self.settings.qp + self._qp.settings.keyframe_offset
            self._stripe_row = 0 if encoder.per_macroblock and coarse else None
            if self._stripe_row is not None:
                logger.info("keyframe at QP %d: refresh stripes at QP %d follow", qp, self.settings.qp)
        self._qp_sum += qp
        if qp != self._last_qp:
            logger.debug("quantizer %s -> %d (cap %d bit/s)", self._last_qp, qp, self._policy.cap)
            self._last_qp = qp
        return encoded.data, encoded.keyframe

    def _stripe(self, encoder: x264.X264Encoder, qp: int) -> ctypes.Array[ctypes.c_float] | None:
        """The quantizer offsets of the next refresh stripe, or None (no sweep under way).

        After a keyframe cut coarse to a slow link, the picture is sharpened a stripe of
        macroblock rows at a time, top to bottom, at the quality quantizer, the rest of the
        picture at the frame's. Why: refining the whole picture at once - lowering the frame's
        quantizer - costs ~30-40 KB a quantizer step for 1080p text, 0.2 s of a 1.5 Mbit/s
        link per frame: every such frame was a freeze (simulated, ``python -m
        benchmarks.scroll_codec --cap 1450000``: 40-50 % frozen for the first 9 s). A
        stripe costs what the budget allows (``stripe_share``). A scroll moves the content
        up while the stripe moves down, so everything on screen meets it once (what scrolls
        in after it passed is new, coded at the frame's quantizer like any change)."""
        row = self._stripe_row
        sharp = self.settings.qp
        if row is None or not encoder.per_macroblock or qp <= sharp:
            self._stripe_row = None
            return None
        # One macroblock row at the sharp quantizer, as the keyframe model guesses it.
        row_bits = (
            self._qp.settings.keyframe_bits_per_pixel
            * encoder.width
            * 16
            * 2.0 ** ((self._qp.settings.base_qp + self._qp.settings.keyframe_offset - sharp) / 10.0)
        )
        rows = max(1, int(self.settings.stripe_share * self._qp.budget() / row_bits))
        end = min(encoder.mb_rows, row + rows)
        columns = encoder.mb_columns
        offsets = (ctypes.c_float * (columns * encoder.mb_rows))()
        for index in range(row * columns, end * columns):
            offsets[index] = float(sharp - qp)
        self._stripe_row = end if end < encoder.mb_rows else None
        self._stripes += 1
        return offsets

    def _encode_pyav(self, yuv: av.VideoFrame, moved: bool, force_keyframe: bool) -> tuple[bytes, bool]:
        codec = self._codec
        if codec is None or moved or (yuv.width, yuv.height) != (codec.width, codec.height):
            if codec is not None:
                self._rebuilds += 1
            codec = self._codec = self._open(yuv.width, yuv.height)
        # PictureType.NONE lets x264 decide (P); I forces an IDR (PLI/FIR from the receiver).
        yuv.pict_type = av.video.frame.PictureType.I if force_keyframe else av.video.frame.PictureType.NONE
        packets = codec.encode(yuv)
        data = b"".join(bytes(packet) for packet in packets)
        return data, any(packet.is_keyframe for packet in packets)
