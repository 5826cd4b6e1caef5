"""``madoguchi bench``: the streaming benchmark, stock aiortc and Madoguchi side by side.

For every scenario (screen size x workload, see :data:`benchmarks.stats.SCENARIOS`)
both pipelines run in the same invocation, one after the other, on the same private
Xvfb and the same scene, each through the real relay (127.0.0.1) and real peers:

* ``baseline``: stock aiortc 1.16 on both sides - its codec negotiation (VP8), its
  encoders and its jitter buffer - fed by our screen track as it was before tuning
  (zero-copy frames, send-on-change, a grab on every 30 fps tick, no CPU budget);
* ``madoguchi``: the tuned pipeline - H.264 with :class:`agent.encoder.TunedH264Encoder`,
  :class:`client_core.frame_buffer.FrameBuffer`, grabs on X DAMAGE, CPU budget.

The agent runs in a child process (``benchmarks.agent_side``), the operator in this
one. Per run: connect, stream ``--warmup`` seconds, then measure for ``--seconds``:
capture-to-decoded latency (stamp painted by the scene, read from the captured and
from the decoded picture; ``time.monotonic`` is one clock for all processes on
Linux), paint-to-decoded latency (the scene logs when it painted each stamp), received
frame rate, CPU of each side (see :mod:`benchmarks.machine`), bitrate on the wire,
luma PSNR of decoded pictures against the captured picture with the same stamp, and
afterwards the size of a keyframe the operator asks for (PLI).

Scroll scenarios add a third run, ``browser``: the same scene shared by a real Chromium
in normal mode (:mod:`benchmarks.browser_side`), unless ``--no-browser``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import logging
import os
import secrets
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.stats import (
    DEFAULT_SCENE_FPS,
    PIPELINES,
    SCENARIOS,
    Scenario,
    brief,
    check_targets,
    render_table,
)

__all__ = ["QUICK_SCENARIOS", "BenchSettings", "configure", "run"]

logger = logging.getLogger(__name__)

QUICK_SCENARIOS = ("1080p-scroll", "1080p-static", "720p-scroll")
"""What ``--quick`` runs (the scenarios the issue's targets name), in under a minute."""


class BenchSettings:
    """Durations and rates of one invocation."""

    def __init__(
        self,
        *,
        quick: bool,
        warmup_s: float | None = None,
        window_s: float | None = None,
        browser: bool = True,
    ) -> None:
        self.quick = quick
        self.browser = browser
        """Also run the scroll scenarios through Chromium in normal mode."""
        self.warmup_s = warmup_s if warmup_s is not None else (1.0 if quick else 3.0)
        self.window_s = window_s if window_s is not None else (3.0 if quick else 15.0)
        self.capture_fps = 30.0
        self.psnr_every_s = 0.5 if quick else 1.0
        self.keyframe_wait_s = 2.5
        if self.warmup_s < 0 or self.window_s <= 0:
            raise ValueError("warm-up must be >= 0 and the window > 0 seconds")

    def as_dict(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "warmup_s": self.warmup_s,
            "window_s": self.window_s,
            "capture_fps": self.capture_fps,
            "psnr_every_s": self.psnr_every_s,
            "browser": self.browser,
        }


BASELINE_DESCRIPTION = (
    "stock aiortc 1.16 on both sides (default negotiation = VP8, aiortc's encoder and jitter buffer), "
    "fed by Madoguchi's screen track without tuning (zero-copy frames, send-on-change, "
    "a grab every 30 fps tick, no CPU budget)"
)
BROWSER_DESCRIPTION = (
    "the customer's browser in normal mode: Debian's Chromium sharing the whole screen from the relay's "
    "/share page (its own capture and encoder, codecs as web/static/js/rtc.js chooses and caps them), "
    "received by the console's tuned receiver; latency is paint-to-decoded (Chromium's capture time "
    "is not visible from outside), CPU is Chromium's whole process tree"
)
MADOGUCHI_DESCRIPTION = (
    "H.264 TunedH264Encoder (x264 ultrafast/zerolatency through its own API, a quantizer per frame "
    "under a leaky-bucket cap, level by size, keyframes on PLI only and at most one per 0.5 s), "
    "FrameBuffer and larger receive buffers on the operator, grabs on X DAMAGE, CPU budget"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", help=f"short runs of {', '.join(QUICK_SCENARIOS)} (under a minute)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure as JSON")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        metavar="NAME",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="skip the browser run (Chromium in normal mode) of the scroll scenarios",
    )
    parser.add_argument("--seconds", type=float, help="measured seconds per pipeline (default 15, quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds streamed before measuring (default 3, quick 1)")
    parser.add_argument(
        "--scene-fps",
        type=float,
        default=DEFAULT_SCENE_FPS,
        help=f"repaints per second of the typing and scroll scenes (default {DEFAULT_SCENE_FPS:g})",
    )
    from testbed.linkemu.profiles import PROFILES

    parser.add_argument(
        "--network",
        choices=sorted(PROFILES),
        metavar="PROFILE",
        help=f"run through an emulated link (root; see docs/performance.md): {', '.join(PROFILES)}",
    )


def run(args: argparse.Namespace) -> int:
    from benchmarks.network import INSIDE_ENV, run_through_link

    if args.network and not os.environ.get(INSIDE_ENV):
        return run_through_link(args.network, _inner_argv(args), args.json)
    names = list(args.scenario or (QUICK_SCENARIOS if args.quick else SCENARIOS))
    if args.scene_fps <= 0:
        print("madoguchi bench: --scene-fps must be positive", file=sys.stderr)
        return 2
    try:
        settings = BenchSettings(
            quick=args.quick, warmup_s=args.warmup, window_s=args.seconds, browser=not args.no_browser
        )
    except ValueError as exc:
        print(f"madoguchi bench: {exc}", file=sys.stderr)
        return 2
    from testbed.customer import TestbedError
    from testbed.scene import SceneError
    from testbed.xvfb import XvfbError

    command = "madoguchi " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] else "madoguchi bench"
    started = time.monotonic()
    try:
        scenarios = [
            dataclasses.replace(SCENARIOS[n], scene_fps=args.scene_fps)
            if SCENARIOS[n].scene != "rare"
            else SCENARIOS[n]
            for n in names
        ]
        if args.network:
            from testbed.linkemu.profiles import profile

            screen = profile(args.network).screen
            if screen is not None:  # lan-1440p, lan-4k: the same workloads on a larger screen
                scenarios = [
                    dataclasses.replace(
                        s, name=f"{screen[0]}x{screen[1]}-{s.workload}", width=screen[0], height=screen[1]
                    )
                    for s in scenarios
                ]
        report = asyncio.run(bench(scenarios, settings, command=command, say=_progress))
    except (TestbedError, SceneError, XvfbError, BenchError) as exc:
        print(f"madoguchi bench: FAILED: {exc}", file=sys.stderr)
        return 1
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    if args.network:
        # The 14 LAN targets mean nothing through a link: the run outside the namespace
        # checks and prints the profile's own (benchmarks.network_targets).
        report["targets"] = []
    print(render_table(report))
    print(f"\n{len(names)} scenario(s) in {report['elapsed_s']} s on {report['machine']['cpu']}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


def _inner_argv(args: argparse.Namespace) -> list[str]:
    """The same ``bench`` command line, for the run inside the link's namespace."""
    argv = ["bench", "--network", args.network, "--scene-fps", str(args.scene_fps)]
    if args.quick:
        argv.append("--quick")
    if args.no_browser:
        argv.append("--no-browser")
    for name in args.scenario or ():
        argv += ["--scenario", name]
    if args.seconds is not None:
        argv += ["--seconds", str(args.seconds)]
    if args.warmup is not None:
        argv += ["--warmup", str(args.warmup)]
    return argv


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """A run produced no usable figures (the agent process failed, no frame arrived...)."""


async def bench(
    scenarios: list[Scenario],
    settings: BenchSettings,
    *,
    command: str = "madoguchi bench",
    say: Callable[[str], None] = _progress,
) -> dict[str, Any]:
    """Run ``scenarios`` with both pipelines; the full report (see docs/performance.md)."""
    from benchmarks.machine import machine_info
    from benchmarks.stats import ratios
    from relay.server import running_relay
    from testbed.scene import SceneProcess, stamp_position
    from testbed.xvfb import VirtualDisplay

    report: dict[str, Any] = {
        "benchmark": "streaming",
        "version": 1,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(),
        "settings": settings.as_dict(),
        "pipelines": {
            "baseline": BASELINE_DESCRIPTION,
            "madoguchi": MADOGUCHI_DESCRIPTION,
            "browser": BROWSER_DESCRIPTION,
        },
        "scenarios": {},
    }
    password = secrets.token_urlsafe(12)
    by_size: dict[tuple[int, int], list[Scenario]] = {}
    for scenario in scenarios:
        by_size.setdefault((scenario.width, scenario.height), []).append(scenario)
    async with running_relay() as relay:
        relay.add_operator("bench", password, display_name="Bench", organisation="Madoguchi")
        for (width, height), group in by_size.items():
            with VirtualDisplay(screens=[(width, height)]) as xvfb, tempfile.TemporaryDirectory() as tmp:
                for scenario in group:
                    work = Path(tmp) / scenario.name
                    work.mkdir()
                    stamps = work / "painted.txt"
                    entry: dict[str, Any] = {
                        "width": width,
                        "height": height,
                        "workload": scenario.workload,
                        "scene": scenario.scene,
                        "scene_fps": scenario.scene_fps,
                    }
                    with SceneProcess(
                        xvfb.name,
                        scenario.scene,
                        fps=scenario.scene_fps,
                        geometry=(0, 0, width, height),
                        stamp_file=str(stamps),
                    ):
                        for pipeline in PIPELINES:
                            say(f"bench: {scenario.name} {pipeline} ...")
                            entry[pipeline] = await run_pipeline(
                                relay.url,
                                password,
                                pipeline=pipeline,
                                display=xvfb.name,
                                stamp_xy=stamp_position(width, height),
                                screen_width=width,
                                painted_log=stamps,
                                work=work / pipeline,
                                settings=settings,
                            )
                            say(f"bench: {scenario.name} {pipeline}: {brief(entry[pipeline], pipeline)}")
                        if settings.browser and scenario.scene == "scroll":
                            entry["browser"] = await _browser_run(
                                relay.url,
                                password=password,
                                display=xvfb.name,
                                size=(width, height),
                                painted_log=stamps,
                                settings=settings,
                                say=say,
                            )
                            say(f"bench: {scenario.name} browser: {brief(entry['browser'], 'browser')}")
                    entry["ratios"] = ratios(entry["baseline"], entry["madoguchi"])
                    report["scenarios"][scenario.name] = entry
    report["targets"] = check_targets(report["scenarios"])
    return report


async def _browser_run(
    relay_url: str,
    *,
    password: str,
    display: str,
    size: tuple[int, int],
    painted_log: Path,
    settings: BenchSettings,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The scenario through Chromium in normal mode; ``{"skipped": why}`` where it cannot run."""
    from benchmarks.browser_side import BrowserBenchError, run_browser
    from testbed.browser import browser_available
    from testbed.scene import stamp_position

    missing = browser_available()
    if missing is not None:
        return {"skipped": missing}
    say("bench: browser ...")
    try:
        return await run_browser(
            relay_url,
            password,
            display=display,
            size=size,
            stamp_xy=stamp_position(*size),
            painted_log=painted_log,
            settings=settings,
        )
    except BrowserBenchError as exc:
        raise BenchError(f"browser: {exc}") from exc


class _FrameLog:
    """Sizes of the encoded frames the operator's jitter buffer hands to the decoder.

    Wraps the ``add`` of whichever jitter buffer the receiver has (stock or ours), on
    this one instance only: measurement, the same for both pipelines.
    """

    def __init__(self, codec: str) -> None:
        self.codec = codec
        self.frames: list[tuple[float, int, bool]] = []

    def install(self, receiver: Any) -> bool:
        from benchmarks.stats import is_keyframe
        from client_core.rtc_tuning import receiver_jitter_buffer

        buffer = receiver_jitter_buffer(receiver)
        if buffer is None:
            return False
        original = buffer.add

        def add(packet: Any) -> Any:
            pli, frame = original(packet)
            if frame is not None:
                self.frames.append((time.monotonic(), len(frame.data), is_keyframe(self.codec, frame.data)))
            return pli, frame

        buffer.add = add  # type: ignore[method-assign]
        take_ready = getattr(buffer, "take_ready", None)
        if callable(take_ready):  # FrameBuffer: the other frames one packet completed

            def take() -> Any:
                ready = take_ready()
                now = time.monotonic()
                for r in ready:
                    self.frames.append((now, len(r.frame.data), is_keyframe(self.codec, r.frame.data)))
                return ready

            buffer.take_ready = take  # type: ignore[attr-defined]
        return True

    def keyframes(self) -> int:
        return sum(1 for _, _, key in self.frames if key)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


async def _read_code(child: asyncio.subprocess.Process, log: Path, timeout: float) -> str:
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), timeout)
    except TimeoutError:
        line = b""
    text = line.decode(errors="replace").split()
    if len(text) != 2 or text[0] != "code":
        raise BenchError(f"the agent process did not show a code: {line!r}\n{_tail(log)}")
    return text[1]


async def run_pipeline(
    relay_url: str,
    password: str,
    *,
    pipeline: str,
    display: str,
    stamp_xy: tuple[int, int],
    painted_log: Path,
    work: Path,
    settings: BenchSettings,
    screen_width: int | None = None,
) -> dict[str, Any]:
    """One session of ``pipeline`` on ``display``; its figures (see the module docstring).

    A picture decoded smaller than the screen (a large screen encoded at fewer pixels)
    has its stamp read at the scaled place and is compared with the capture scaled alike."""
    from benchmarks.machine import process_cpu_seconds
    from benchmarks.repair_log import RepairLog
    from benchmarks.stats import freezes, negotiated_video_codec
    from client_core import rtc_tuning
    from client_core.rtc_tuning import receiver_jitter_buffer, receiver_path_probe
    from operator_console.client import OperatorClient, SessionEnded
    from testbed.operator import expect, operator_view
    from testbed.stamp import BLOCK as STAMP_BLOCK
    from testbed.stamp import StampError, read_stamp

    os.makedirs(work)
    # The operator side of this process: stock aiortc for the baseline.
    rtc_tuning.set_tuning_enabled(pipeline == "madoguchi")
    decoded: list[tuple[int, float]] = []
    latest: list[tuple[int, Any]] = []
    unreadable = 0

    def on_decoded(image: Any, at: float) -> None:
        nonlocal unreadable
        try:
            scale = image.shape[1] / screen_width if screen_width else 1.0
            if scale == 1.0:
                value = read_stamp(image, x=stamp_xy[0], y=stamp_xy[1])
            else:
                value = read_stamp(
                    image,
                    x=round(stamp_xy[0] * scale),
                    y=round(stamp_xy[1] * scale),
                    block=round(STAMP_BLOCK * scale),
                )
        except StampError:
            value = None
        if value is None:
            unreadable += 1
            return
        decoded.append((value, at))
        latest[:] = [(value, image)]

    repair = RepairLog()
    operator = OperatorClient(relay_url)
    operator.sink.on_frame = on_decoded
    log_path = work / "agent.log"
    with log_path.open("wb") as log:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.agent_side",
            "--relay",
            relay_url,
            "--pipeline",
            pipeline,
            "--display",
            display,
            "--fps",
            str(settings.capture_fps),
            "--stamp",
            f"{stamp_xy[0]},{stamp_xy[1]}",
            "--out",
            str(work),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env={**os.environ, "DISPLAY": display},
        )
        try:
            code = await _read_code(child, log_path, 30)

            async def typed() -> str:
                return code

            view_started = time.monotonic()
            await operator_view(operator, "bench", password, typed)
            peer = operator.peer
            if peer is None:
                raise BenchError("the operator has no peer connection")
            codec = negotiated_video_codec(str(peer.pc.localDescription.sdp)) or "?"
            frame_log = _FrameLog(codec)
            receiver = next(t.receiver for t in peer.pc.getTransceivers() if t.kind == "video")
            frame_log.install(receiver)
            repair.install(receiver)
            await asyncio.sleep(settings.warmup_s)
            repair_before = repair.snapshot()

            figures = await _measure(
                operator,
                child,
                settings,
                decoded=decoded,
                latest=latest,
                frame_log=frame_log,
                cpu=process_cpu_seconds,
            )

            repair_after = repair.snapshot()
            figures["repair"] = {k: repair_after[k] - repair_before[k] for k in repair_after}
            figures["repair"]["session_unrepairable"] = repair_after["unrepairable"]
            # The whole session, warm-up included: a large screen's blurry start shows up
            # as keyframe requests before the window (issue 15: "0 keyframe requests").
            figures["repair"]["session_keyframe_requests"] = repair_after["keyframe_requests"]
            figures["first_picture_s"] = round(decoded[0][1] - view_started, 2) if decoded else None
            figures["freeze"] = freezes([at for _, at in decoded], *figures["window"])
            # After the window: how big is a keyframe of this picture? (Asked for with a PLI.)
            before = len(frame_log.frames)
            await peer.request_keyframe()
            deadline = time.monotonic() + settings.keyframe_wait_s
            keyframe_bytes: int | None = None
            while time.monotonic() < deadline and keyframe_bytes is None:
                await asyncio.sleep(0.05)
                keyframe_bytes = next((n for _, n, key in frame_log.frames[before:] if key), None)

            buffer = receiver_jitter_buffer(receiver)
            counters = getattr(buffer, "counters", None)
            figures["jitter_buffer"] = {
                "class": type(buffer).__name__,
                **(
                    dataclasses.asdict(counters)
                    if dataclasses.is_dataclass(counters) and not isinstance(counters, type)
                    else {}
                ),
            }
            probe = receiver_path_probe(receiver)
            capacity = probe.capacity() if probe is not None else None
            figures["path_capacity_kbps"] = None if capacity is None else round(capacity / 1000)
            await operator.end_session()
            await expect(operator, SessionEnded, 10, "the session did not end")
            try:
                await asyncio.wait_for(child.wait(), 20)
            except TimeoutError:
                raise BenchError("the agent process did not exit after the session") from None
        finally:
            repair.close()
            await operator.close()
            if child.returncode is None:
                child.kill()
                await child.wait()
    agent_file = work / "agent.json"
    if child.returncode != 0 or not agent_file.exists():
        raise BenchError(f"the agent process failed (exit {child.returncode}):\n{_tail(log_path)}")
    agent = json.loads(agent_file.read_text())
    return _figures(
        pipeline=pipeline,
        codec=codec,
        agent=agent,
        work=work,
        painted_log=painted_log,
        keyframe_bytes=keyframe_bytes,
        unreadable=unreadable,
        tuned_operator=peer.tuned,
        decoded=decoded,
        **figures,
    )


async def _measure(
    operator: Any,
    child: asyncio.subprocess.Process,
    settings: BenchSettings,
    *,
    decoded: list[tuple[int, float]],
    latest: list[tuple[int, Any]],
    frame_log: _FrameLog,
    cpu: Callable[[int | None], float | None],
) -> dict[str, Any]:
    """The measurement window: counters before and after, PSNR samples requested meanwhile."""
    assert child.stdin is not None
    stats0 = await operator.stats()
    start = time.monotonic()
    agent0, operator0 = cpu(child.pid), cpu(None)
    frames0, logged0 = operator.sink.frames_received, len(frame_log.frames)
    samples: dict[int, Any] = {}
    next_sample = start + settings.psnr_every_s / 2
    while (now := time.monotonic()) < start + settings.window_s:
        if now >= next_sample and latest and latest[0][0] not in samples:
            value, image = latest[0]
            samples[value] = image
            child.stdin.write(f"want {value}\n".encode())
            await child.stdin.drain()
            next_sample = now + settings.psnr_every_s
        await asyncio.sleep(0.02)
    end = time.monotonic()
    agent1, operator1 = cpu(child.pid), cpu(None)
    stats1 = await operator.stats()
    wall = end - start
    sizes = [n for _, n, _ in frame_log.frames[logged0:]]
    return {
        "window_s": round(wall, 2),
        "window": (start, end),
        "fps": round((operator.sink.frames_received - frames0) / wall, 1),
        "agent_cpu_percent": _percent(agent0, agent1, wall),
        "operator_cpu_percent": _percent(operator0, operator1, wall),
        "bitrate_kbps": (
            round((stats1.bytes_received - stats0.bytes_received) * 8 / 1000 / wall, 1)
            if stats0 is not None and stats1 is not None
            else None
        ),
        "encoded_frame_bytes_median": round(statistics.median(sizes)) if sizes else None,
        "keyframes_in_window": sum(1 for _, _, key in frame_log.frames[logged0:] if key),
        "samples": samples,
    }


def _percent(before: float | None, after: float | None, wall: float) -> float | None:
    if before is None or after is None or wall <= 0:
        return None
    return round((after - before) / wall * 100.0, 1)


def _figures(
    *,
    pipeline: str,
    codec: str,
    agent: dict[str, Any],
    work: Path,
    painted_log: Path,
    keyframe_bytes: int | None,
    unreadable: int,
    tuned_operator: bool,
    decoded: list[tuple[int, float]],
    window: tuple[float, float],
    samples: dict[int, Any],
    **measured: Any,
) -> dict[str, Any]:
    import numpy as np

    from benchmarks.stats import match_latencies, parse_stamp_log, summarize
    from testbed.quality import psnr_luma

    captured = {int(k): float(v) for k, v in agent["captured"].items()}
    painted = parse_stamp_log(painted_log.read_text()) if painted_log.exists() else {}
    psnr: list[float] = []
    for value in agent["kept"]:
        image = samples.get(value)
        path = work / f"capture-{value}.npy"
        if image is None or not path.exists():
            continue
        source = np.load(path)
        height, width = image.shape[:2]
        if source.shape[1] != width:  # encoded at fewer pixels: compare with the capture scaled alike
            import av

            source = (
                av.VideoFrame.from_ndarray(np.ascontiguousarray(source[..., :3]), format="bgr24")
                .reformat(width=width, height=height, format="bgr24", interpolation="AREA")
                .to_ndarray()
            )
        psnr.append(psnr_luma(image, source[:height, :width, 2::-1]))
    finite = [p for p in psnr if p != float("inf")]
    return {
        "codec": codec,
        "tuned": {"agent": agent["peer_tuned"], "operator": tuned_operator},
        "encoder": agent["encoder"],
        "grabs_on_damage": agent["watching_changes"],
        "latency_ms": summarize(match_latencies(captured, decoded, since=window[0], until=window[1])),
        "paint_to_decoded_ms": summarize(match_latencies(painted, decoded, since=window[0], until=window[1])),
        # How soon the agent grabbed a change after it was drawn (the cost of not polling),
        # for the changes drawn inside the window.
        "paint_to_capture_ms": summarize(
            match_latencies(
                {v: t for v, t in painted.items() if window[0] <= t <= window[1]},
                sorted(captured.items(), key=lambda item: item[1]),
            )
        ),
        **measured,
        "psnr_db": {
            "mean": round(statistics.fmean(finite), 1) if finite else None,
            "min": round(min(finite), 1) if finite else None,
            "samples": len(psnr),
        },
        "keyframe_bytes": keyframe_bytes,
        "keyframe_kb": round(keyframe_bytes / 1000) if keyframe_bytes is not None else None,
        "unreadable_stamps": unreadable,
        "track": agent["track"],
        "encoder_stats": agent["encoder_stats"],
        "budget_fps": agent["budget_fps"],
    }
