"""An offline lab for encoder choices: the benchmark's text scroll through the agent's x264, no network.

``python -m benchmarks.scroll_codec`` renders the ``scroll`` scene's text strip
(:func:`testbed.scene.render_scroll_strip`, the scene's own painting code), moves a
window over it as the scene does (:data:`testbed.scene.SCROLL_SPEED` rows a repaint,
``--scene-fps`` repaints a second) and encodes what an agent sending ``fps`` frames a
second would see, through the agent's own path: :class:`agent.encoder.YuvCanvas`
(BGRA -> yuv420p, scaled like the slow-link picture) and :class:`agent.x264.X264Encoder`
with :meth:`agent.encoder.H264Settings.x264_options`, plus the variant's options, at a
constant quantizer. It decodes the result with FFmpeg and prints per setting: the
keyframe's size, the mean P-frame size, the bitrate that makes at ``fps``, the luma PSNR
of the decoded pictures against the encoder's input, and the encoder's CPU per frame.

Why offline: on the emulated link (``madoguchi bench --network dsl``) every figure moves
with the rate control, the estimate, the losses and the machine's load; here a choice of
motion search, quantizer, scale or frame rate is measured alone, in seconds, and repeats.
The figures are in docs/performance.md, "Where the `dsl` decibels go".
"""

from __future__ import annotations

import argparse
import dataclasses
import fractions
import itertools
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from agent import x264
from agent.encoder import H264Settings, YuvCanvas, h264_level
from testbed.scene import SCROLL_SPEED, render_scroll_strip

__all__ = ["VARIANTS", "Result", "Second", "encode_scroll", "main", "simulate"]

VARIANTS: dict[str, dict[str, str]] = {
    "dia16": {"me": "dia", "merange": "16"},
    "hex16": {"me": "hex", "merange": "16"},
    "umh16": {"me": "umh", "merange": "16"},
    "umh64": {"me": "umh", "merange": "64"},
}
"""Motion searches, on top of the agent's other x264 options. ``dia16`` is what the
``ultrafast`` preset chooses by itself, ``umh64`` what the agent uses (see
:meth:`agent.encoder.H264Settings.x264_options`). A scroll moves the whole picture by
several rows; ``dia`` searches a few pixels around the predicted vector, ``umh`` (uneven
multi-hexagon) a wide cross and hexagons up to ``merange``."""


@dataclasses.dataclass(frozen=True)
class Result:
    """One setting's figures (sizes in bytes, PSNR of the luma plane in dB)."""

    variant: str
    width: int
    height: int
    scale: float
    qp: int
    fps: float
    step_px: float
    frames: int
    keyframe_bytes: int
    p_bytes_mean: float
    kbps: float
    psnr_mean: float
    psnr_min: float
    encode_ms: float
    """Process CPU per encoded frame (x264's threads included), milliseconds."""


def _psnr(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _luma(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    return np.array(rows[:, : plane.width])


def encode_scroll(
    width: int,
    height: int,
    *,
    variant: str = "umh64",
    qp: int = 24,
    scale: float = 1.0,
    fps: float = 30.0,
    scene_fps: float = 30.0,
    frames: int = 30,
    strip: tuple[npt.NDArray[np.uint8], int] | None = None,
) -> Result:
    """Encode ``frames`` pictures of the scroll as an agent at ``fps`` would (the first an IDR).

    ``strip`` is :func:`testbed.scene.render_scroll_strip`'s result for this size (rendered
    here when None; pass it to measure many settings on one strip)."""
    if frames < 2:
        raise ValueError("frames must be >= 2 (a keyframe and at least one P-frame)")
    image, tile_h = strip if strip is not None else render_scroll_strip(width, height)
    step = SCROLL_SPEED * scene_fps / fps
    size = (max(2, int(width * scale) & ~1), max(2, int(height * scale) & ~1))
    settings = H264Settings(max_fps=fps)
    options = {**settings.x264_options(h264_level(*size, fps)), **VARIANTS[variant]}
    encoder = x264.X264Encoder(*size, preset=settings.preset, tune=settings.tune, options=options)
    decoder = av.CodecContext.create("h264", "r")
    decoder.thread_count = 1  # frame threads would hold pictures back; each must meet its input
    canvas = YuvCanvas()
    canvas.size = size if size != (width, height) else None
    sizes: list[int] = []
    psnrs: list[float] = []
    references: list[npt.NDArray[np.uint8]] = []
    cpu = 0.0
    try:
        for index in range(frames):
            offset = round(index * step) % tile_h
            source = av.VideoFrame.from_numpy_buffer(image[offset : offset + height], format="bgra")
            yuv = canvas.convert(source)
            references.append(_luma(yuv))
            planes = yuv.planes
            started = time.process_time()
            encoded = encoder.encode(
                (planes[0].buffer_ptr, planes[1].buffer_ptr, planes[2].buffer_ptr),
                (planes[0].line_size, planes[1].line_size, planes[2].line_size),
                pts=index,
                qp=qp,
                keyframe=index == 0,
            )
            cpu += time.process_time() - started
            sizes.append(len(encoded.data))
            # One access unit a packet (FFmpeg's parser would hold each back until the next).
            for picture in decoder.decode(av.Packet(encoded.data)):
                psnrs.append(_psnr(_luma(picture), references[len(psnrs)]))
        for picture in decoder.decode(None):
            psnrs.append(_psnr(_luma(picture), references[len(psnrs)]))
    finally:
        encoder.close()
    p_sizes = sizes[1:]
    p_mean = sum(p_sizes) / len(p_sizes)
    return Result(
        variant=variant,
        width=size[0],
        height=size[1],
        scale=scale,
        qp=qp,
        fps=fps,
        step_px=step,
        frames=frames,
        keyframe_bytes=sizes[0],
        p_bytes_mean=p_mean,
        kbps=p_mean * 8 * fps / 1000,
        psnr_mean=sum(psnrs) / len(psnrs) if psnrs else 0.0,
        psnr_min=min(psnrs, default=0.0),
        encode_ms=1000 * cpu / frames,
    )


@dataclasses.dataclass(frozen=True)
class Second:
    """One second of :func:`simulate`: what the agent's encoder sent and how sharp it was."""

    second: int
    frames: int
    keyframes: int
    kbit: float
    qp_mean: float
    psnr_mean: float
    """Luma PSNR of the decoded pictures sent in this second against the encoder's input
    (at the encoded size, as ``madoguchi bench`` measures it); 0 when none was sent."""
    width: int
    frozen_ms: float
    """Time in this second inside gaps over 200 ms between pictures arriving, the link
    modelled as a queue drained at the estimate (the bench's frozen share, without loss)."""


FREEZE_S = 0.2
"""A gap between pictures longer than this is a freeze (as in ``madoguchi bench``)."""


def simulate(
    width: int,
    height: int,
    *,
    cap_bps: int,
    seconds: float = 18.0,
    scene_fps: float = 30.0,
    estimate_after_s: float = 0.3,
    settings: H264Settings | None = None,
    strip: tuple[npt.NDArray[np.uint8], int] | None = None,
) -> list[Second]:
    """The whole :class:`agent.encoder.TunedH264Encoder` (probe, scale, rate control,
    skipping) on the scroll at a link whose estimate is ``cap_bps``, on a simulated clock.

    Every repaint of the scene is offered to the encoder, as the agent's capture does;
    the first estimate (the path probe's answer) comes ``estimate_after_s`` after the
    first frame. No loss, no queue: it shows what the encoder and its rate control make
    of a rate, second by second - how soon the picture gets sharp."""
    from aiortc.codecs.h264 import h264_depayload

    from agent.encoder import TunedH264Encoder

    image, tile_h = strip if strip is not None else render_scroll_strip(width, height)
    clock = [0.0]
    encoder = TunedH264Encoder(settings or H264Settings(), clock=lambda: clock[0])
    decoder = av.CodecContext.create("h264", "r")
    decoder.thread_count = 1
    reference_canvas = YuvCanvas()
    rows: dict[int, list[tuple[int, bool, int, float, int]]] = {}
    qp_sum = encoder.stats.qp_sum
    estimated = False
    link_free_at = 0.0
    arrivals: list[float] = []
    for index in range(int(seconds * scene_fps)):
        now = index / scene_fps
        clock[0] = now
        if not estimated and now >= estimate_after_s:
            encoder.target_bitrate = cap_bps
            estimated = True
        offset = round(index * SCROLL_SPEED) % tile_h
        source = av.VideoFrame.from_numpy_buffer(image[offset : offset + height], format="bgra")
        source.pts = round(index * 90_000 / scene_fps)
        source.time_base = fractions.Fraction(1, 90_000)
        keyframes = encoder.stats.keyframes
        payloads, _ = encoder.encode(source)
        stats = encoder.stats
        qp = stats.qp_sum - qp_sum
        qp_sum = stats.qp_sum
        if not payloads:
            continue
        data = b"".join(h264_depayload(payload) for payload in payloads)
        psnr, shown_width = 0.0, 0
        for picture in decoder.decode(av.Packet(data)):
            reference_canvas.size = (picture.width, picture.height)
            psnr = _psnr(_luma(picture), _luma(reference_canvas.convert(source)))
            shown_width = picture.width
        link_free_at = max(link_free_at, now) + 8 * len(data) / cap_bps
        arrivals.append(link_free_at)
        rows.setdefault(int(now), []).append((len(data), stats.keyframes > keyframes, qp, psnr, shown_width))
    frozen = [0.0] * int(seconds)
    for before, after in itertools.pairwise(arrivals):
        if after - before > FREEZE_S:
            for second in range(int(before), min(int(after) + 1, len(frozen))):
                frozen[second] += max(0.0, min(after, second + 1) - max(before, second))
    result: list[Second] = []
    for second in range(int(seconds)):
        frames = rows.get(second, [])
        shown = [psnr for _, _, _, psnr, _ in frames if psnr > 0]
        result.append(
            Second(
                second=second,
                frames=len(frames),
                keyframes=sum(1 for _, key, _, _, _ in frames if key),
                kbit=sum(size for size, _, _, _, _ in frames) * 8 / 1000,
                qp_mean=sum(qp for _, _, qp, _, _ in frames) / len(frames) if frames else 0.0,
                psnr_mean=sum(shown) / len(shown) if shown else 0.0,
                width=max((w for _, _, _, _, w in frames), default=0),
                frozen_ms=1000 * frozen[second],
            )
        )
    return result


def _row(r: Result) -> str:
    return (
        f"| {r.variant} | {r.width}x{r.height} | {r.qp} | {r.fps:g} ({r.step_px:g} px) | "
        f"{r.keyframe_bytes / 1000:.0f} | {r.p_bytes_mean / 1000:.1f} | {r.kbps:.0f} | "
        f"{r.psnr_mean:.1f} / {r.psnr_min:.1f} | {r.encode_ms:.1f} |"
    )


HEADER = (
    "| variant | encoded size | QP | fps (scroll per frame) | keyframe KB | P-frame KB | kbit/s | "
    "PSNR mean / min dB | encode CPU ms/frame |\n|---|---|---|---|---|---|---|---|---|"
)


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scroll_codec", description=__doc__)
    parser.add_argument("--size", default="1920x1080", help="screen size WxH (default 1920x1080)")
    parser.add_argument("--variant", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    parser.add_argument("--qp", default="24,30,36", help="comma list of quantizers (default 24,30,36)")
    parser.add_argument("--scale", default="1,0.75", help="comma list of linear scales (default 1,0.75)")
    parser.add_argument("--fps", default="30,10", help="comma list of encoded frame rates (default 30,10)")
    parser.add_argument("--scene-fps", type=float, default=30.0, help="scene repaints a second (default 30)")
    parser.add_argument("--frames", type=int, default=30, help="frames per setting (default 30)")
    parser.add_argument(
        "--cap",
        type=int,
        metavar="BPS",
        help="instead: the agent's whole encoder at this path estimate, second by second (see simulate)",
    )
    parser.add_argument(
        "--seconds", type=float, default=18.0, help="with --cap: seconds simulated (default 18)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="with --cap: an agent.encoder.H264Settings field, e.g. low_rate_bps=600000 (repeatable)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
        variants = args.variant.split(",")
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise ValueError(f"unknown variant {', '.join(unknown)}")
        qps = [int(q) for q in args.qp.split(",")]
        scales, rates = _floats(args.scale), _floats(args.fps)
    except ValueError as exc:
        print(f"scroll_codec: {exc}", file=sys.stderr)
        return 2
    try:
        x264.load()
    except x264.X264Unavailable as exc:
        print(f"scroll_codec: no usable libx264: {exc}", file=sys.stderr)
        return 1
    strip = render_scroll_strip(width, height)
    if args.cap is not None:
        return _simulate_main(width, height, args, strip)
    results: list[Result] = []
    print(HEADER, flush=True)
    for scale in scales:
        for fps in rates:
            for qp in qps:
                for variant in variants:
                    result = encode_scroll(
                        width,
                        height,
                        variant=variant,
                        qp=qp,
                        scale=scale,
                        fps=fps,
                        scene_fps=args.scene_fps,
                        frames=args.frames,
                        strip=strip,
                    )
                    results.append(result)
                    print(_row(result), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=2) + "\n")
    return 0


def _settings(assignments: Sequence[str]) -> H264Settings:
    """:class:`H264Settings` with ``FIELD=VALUE`` overrides, each value of its field's type."""
    defaults = H264Settings()
    changes: dict[str, object] = {}
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        if name not in {field.name for field in dataclasses.fields(H264Settings)}:
            raise ValueError(f"H264Settings has no field {name!r}")
        current = getattr(defaults, name)
        if isinstance(current, bool):
            changes[name] = text.lower() in ("1", "true", "yes")
        elif current is None or isinstance(current, int):
            changes[name] = None if text == "None" else int(text)
        elif isinstance(current, float):
            changes[name] = float(text)
        else:
            changes[name] = text
    return dataclasses.replace(defaults, **changes)  # type: ignore[arg-type]


WINDOW = (3, 18)
"""``madoguchi bench``'s default measured window, in seconds after the start (3 s warm-up, 15 s)."""


def _simulate_main(
    width: int, height: int, args: argparse.Namespace, strip: tuple[npt.NDArray[np.uint8], int]
) -> int:
    try:
        settings = _settings(args.set)
    except ValueError as exc:
        print(f"scroll_codec: {exc}", file=sys.stderr)
        return 2
    seconds = simulate(
        width,
        height,
        cap_bps=args.cap,
        seconds=args.seconds,
        scene_fps=args.scene_fps,
        settings=settings,
        strip=strip,
    )
    print(
        "| second | frames | keyframes | kbit | QP mean | width | PSNR dB | frozen ms |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    for r in seconds:
        print(
            f"| {r.second} | {r.frames} | {r.keyframes} | {r.kbit:.0f} | {r.qp_mean:.1f} | "
            f"{r.width} | {r.psnr_mean:.1f} | {r.frozen_ms:.0f} |"
        )
    window = [r for r in seconds if WINDOW[0] <= r.second < WINDOW[1] and r.frames]
    if window:
        mean = sum(r.psnr_mean * r.frames for r in window) / sum(r.frames for r in window)
        fps = sum(r.frames for r in window) / len(window)
        frozen = sum(r.frozen_ms for r in window) / (10 * len(window))
        print(
            f"window {WINDOW[0]}-{WINDOW[1]} s: PSNR mean {mean:.1f} dB (per frame), "
            f"min of seconds {min(r.psnr_mean for r in window):.1f} dB, {fps:.1f} fps, {frozen:.0f} % frozen"
        )
    if args.json is not None:
        args.json.write_text(json.dumps([dataclasses.asdict(r) for r in seconds], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
