"""Which quantizer the next frame gets: quality first, a bitrate cap when it matters.

The agent encodes with a constant quantizer chosen per frame (see :mod:`agent.x264`
for why not x264's CRF). Text wants one quality everywhere - ``base_qp`` keeps 1080p
text above 40 dB luma PSNR - and a screen that changes little costs little at any
quality, so most of the time every frame gets ``base_qp``. The cap matters when the
picture is expensive (a video played full screen, a burst of keyframes): then the
quantizer rises just enough to keep a leaky bucket - ``cap`` bit/s drained,
``buffer_s`` seconds deep, like x264's VBV - from filling up.

The controller is incremental, so it never extrapolates far from what it measured:
each frame has a budget: the drain per frame plus a share (``1 / spread_frames``) of
the room left below ``fill`` of the bucket - negative when the bucket is fuller, with
a floor of a quarter of the drain. When the last frame at quantizer ``q``
overran its budget by a factor ``r``, the next gets about ``q + 3 log2 r`` (H.264's
quantizer step doubles every 6, and a frame's size roughly halves with it: half the
correction at once, at most +6), and while the bucket is less than a quarter full or
the frame fit, the quantizer walks back towards ``base_qp`` by one or two per frame.
A keyframe - rare, several times a P-frame - is coded ``keyframe_offset`` above
the current quantizer (the following frames sharpen it where they touch it), and
higher still if the last keyframe, scaled to that quantizer, would not fit in the
bucket's free room (a low cap: a slow uplink must not get a burst it needs seconds
for); it counts in the bucket and does not move the P-frame quantizer. The bucket never holds more
than its depth: bits beyond it are late, not owed.

On a slow link (``constrained``: the receiver's estimate holds the cap below the
encoder's maximum) three things change (issue 15): a keyframe is cut to what the cap
drains in ``keyframe_drain_s`` (coarse, up to ``max_keyframe_qp``; the P-frames after it
start near its quantizer and walk back, sharpening it); P-frames are skipped while the
bucket holds more than ``max_backlog_s`` of the cap (frame rate before sharpness; never
below ``min_fps`` unless past ``hard_backlog_s``); and a P-frame's budget is what the
cap drains since the previous frame plus half the room below ``hard_backlog_s``, so no
standing queue builds at the bottleneck. Pure: time and sizes are passed in.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["QpControl", "QpSettings"]

_KEYFRAME_HALVING_QP = 10.0


@dataclasses.dataclass(frozen=True)
class QpSettings:
    """``base_qp`` the quality when the cap allows it, ``max_qp`` the worst accepted."""

    base_qp: int = 18
    max_qp: int = 44
    keyframe_offset: int = 4
    buffer_s: float = 2.0
    fps: float = 30.0
    spread_frames: float = 15.0
    fill: float = 0.9
    keyframe_drain_s: float = 0.2
    """When constrained, a keyframe is at most what the cap drains in this time (coarse
    first; the next frames sharpen it), so it never floods a slow link's bottleneck
    buffer. Unconstrained (a LAN, or before the path's estimate came) it only has to fit
    the deep bucket, as before: a coarse first keyframe on a LAN costs seconds of
    refinement at the 3 Mbit/s cap (measured: 1080p scroll at 37 dB instead of 42)."""
    max_backlog_s: float = 0.1
    """Frames are skipped while the bucket holds more than this many seconds of the cap
    (what a link running at the cap would still have queued): a slow link gets fewer
    frames, not blurrier ones, and never a standing queue."""
    min_fps: float = 10.0
    """Skipping keeps at least this frame rate while the backlog is under ``hard_backlog_s``.
    10, not 5: a scrolled screen's P-frame costs about in proportion to the rows it
    scrolled since the last frame (x264 ultrafast, 0.75 scale, QP 24: 3.7 KB for a 3 px
    step, 12.8 KB for 9 px), so fewer frames save a scroll almost nothing and every gap
    over 200 ms is a freeze (`dsl`: 5-10 fps and 5-30 % frozen at 5)."""
    hard_backlog_s: float = 0.25
    max_keyframe_qp: int = 51
    """A keyframe may go this coarse to fit the link (the next frames sharpen it)."""
    keyframe_bits_per_pixel: float = 2.5
    """The first keyframe's guess at ``base_qp + keyframe_offset`` (1080p text at QP 22:
    640 KB, 2.5 bits a pixel); later keyframes are predicted from the last one."""

    def __post_init__(self) -> None:
        if not 0 <= self.base_qp <= self.max_qp <= 51:
            raise ValueError("need 0 <= base_qp <= max_qp <= 51")
        if self.keyframe_offset < 0:
            raise ValueError("keyframe_offset must be >= 0")
        if self.buffer_s <= 0 or self.fps <= 0 or self.spread_frames < 1:
            raise ValueError("buffer_s and fps must be positive, spread_frames >= 1")
        if not 0 < self.fill <= 1:
            raise ValueError("fill must be in (0, 1]")


class QpControl:
    """Chooses per-frame quantizers under a bit/s cap; call :meth:`choose`, encode, then :meth:`record`."""

    def __init__(self, settings: QpSettings, cap_bps: float) -> None:
        self.settings = settings
        self._cap = 0.0
        self.cap = cap_bps
        self._level = 0.0
        self._at: float | None = None
        self._qp = settings.base_qp
        self._keyframe: tuple[int, int] | None = None  # (bits, qp) of the last keyframe
        self._last_frame_at: float | None = None
        self.skipped = 0
        self.constrained = False
        """True when the cap is below the encoder's maximum because the path's estimate said
        so: then frames are skipped and budgeted against a short backlog (a slow link's
        buffer); otherwise (a LAN) the deep bucket absorbs bursts as it always did."""

    @property
    def cap(self) -> float:
        return self._cap

    @cap.setter
    def cap(self, bps: float) -> None:
        if bps <= 0:
            raise ValueError("cap must be positive")
        self._cap = float(bps)

    @property
    def capacity(self) -> float:
        """The bucket's depth in bits."""
        return self._cap * self.settings.buffer_s

    @property
    def level(self) -> float:
        """Bits in the bucket as of the last call."""
        return self._level

    @property
    def qp(self) -> int:
        """The quantizer the next P-frame gets if nothing changes."""
        return self._qp

    def restart(self) -> None:
        """A new picture size: the quantizer back at ``base_qp`` and the keyframe size model
        forgotten (the next keyframe's size is guessed from its pixels again)."""
        self._qp = self.settings.base_qp
        self._keyframe = None

    def _drain(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self._level = max(0.0, self._level - self._cap * (now - self._at))
        self._at = now if self._at is None else max(self._at, now)

    def skip(self, now: float) -> bool:
        """Whether to skip the P-frame due at ``now`` (trade frame rate before sharpness)."""
        self._drain(now)
        s = self.settings
        if not self.constrained or self._level <= self._cap * s.max_backlog_s:
            return False
        waited = self._last_frame_at is not None and now - self._last_frame_at >= 1.0 / s.min_fps
        if waited and self._level <= self._cap * s.hard_backlog_s:
            return False
        self.skipped += 1
        return True

    def budget(self, elapsed: float | None = None) -> float:
        """Bits the next P-frame may take. Unconstrained: the drain per frame plus a share of
        the room below ``fill`` of the deep bucket. Constrained: what the cap drains since the
        last frame (one frame interval to ``1 / min_fps``) plus half the room left below
        ``hard_backlog_s`` of the cap."""
        s = self.settings
        if not self.constrained:
            per_frame = self._cap / s.fps
            return max(per_frame / 4.0, per_frame + (self.capacity * s.fill - self._level) / s.spread_frames)
        interval = 1.0 / s.fps if elapsed is None else min(max(elapsed, 1.0 / s.fps), 1.0 / s.min_fps)
        per_frame = self._cap * interval
        return max(per_frame / 4.0, per_frame + (self._cap * s.hard_backlog_s - self._level) / 2.0)

    def choose(self, now: float, *, keyframe: bool, pixels: int | None = None) -> int:
        """The quantizer for the frame about to be encoded at ``now`` (``pixels``: its size,
        for the first keyframe's guess)."""
        self._drain(now)
        if not keyframe:
            return self._qp
        s = self.settings
        qp = min(s.max_qp, self._qp + s.keyframe_offset)
        if self._keyframe is not None:
            bits, at = self._keyframe
        elif pixels is not None:
            bits, at = round(pixels * s.keyframe_bits_per_pixel), s.base_qp + s.keyframe_offset
        else:
            return qp
        room = max(self.capacity - self._level, self.capacity / 4.0)
        limit = min(room, self._cap * s.keyframe_drain_s) if self.constrained else room
        # Keyframes of text halve about every 10 quantizer steps, not 6 (measured: 1080p text
        # scroll 640 KB at QP 22, 206 KB at QP 41, 74 KB at QP 51).
        if bits * 2.0 ** ((at - qp) / _KEYFRAME_HALVING_QP) > limit:
            step = math.ceil(_KEYFRAME_HALVING_QP * math.log2(bits / limit))
            qp = min(max(s.max_qp, s.max_keyframe_qp), max(qp, at + step))
        return qp

    def record(self, now: float, bits: int, qp: int, *, keyframe: bool, hold: bool = False) -> None:
        """A frame of ``bits`` was encoded at ``qp`` and leaves at ``now``. ``hold``: the
        quantizer may rise but not walk back down (a refresh stripe is sharpening the
        picture part by part; walking down would refine all of it at once)."""
        if bits < 0:
            raise ValueError("bits must be >= 0")
        s = self.settings
        self._drain(now)
        elapsed = None if self._last_frame_at is None else now - self._last_frame_at
        self._last_frame_at = now
        # A burst beyond the bucket's depth (a storm of keyframe requests when a session
        # starts) is late, not owed: counting it in full would starve the next seconds.
        self._level = min(self.capacity, self._level + bits)
        if keyframe:
            if bits > 0:
                self._keyframe = (bits, qp)
            # A keyframe coarser than usual (capped to the link): the next P-frames sharpen
            # it in steps (each about as large as the keyframe) instead of in one burst.
            self._qp = min(s.max_qp, max(self._qp, qp - s.keyframe_offset))
            return
        ratio = bits / self.budget(elapsed)
        backlog = self._cap * s.max_backlog_s if self.constrained else self.capacity / 4.0
        if ratio > 1.0 and self._level > backlog:
            step = min(6, math.ceil(3.0 * math.log2(ratio)))
            self._qp = min(s.max_qp, max(self._qp, qp) + step)
        elif self._qp > s.base_qp and not hold:
            step = 2 if ratio < 0.5 or self._level < backlog else 1
            self._qp = max(s.base_qp, self._qp - step)
