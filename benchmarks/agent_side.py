"""The customer's side of one ``madoguchi bench`` run, in a process of its own.

``python -m benchmarks.agent_side --relay URL --pipeline madoguchi|baseline --display :N --out DIR``

Runs a real :class:`AgentSession` (scripted consent and Allow) sharing ``--display``,
prints ``code NNNN`` on stdout once the relay gave one, and runs until the operator
ends the session. Why a separate process: its CPU time is then the agent's alone
(every thread, libx264's included), and agent and operator do not share one GIL,
as on two real machines. Latency still needs no clock synchronisation:
``time.monotonic`` is CLOCK_MONOTONIC, one clock for every process on a Linux machine.

While it runs it records, for every frame the track hands to the encoder, the stamp
value painted in it and when it was grabbed. The benchmark writes ``want VALUE``
lines on stdin for frames it decoded and wants to compare: the captured picture
with that stamp is kept (a reference, no copy) and saved at the end. At the end it
writes ``DIR/agent.json`` (capture times, track and encoder counters) and
``DIR/capture-VALUE.npy`` (BGRA) for the kept pictures.

The bookkeeping costs the agent one stamp read per sent frame (about 0.1 ms) and
keeps the last ``--keep`` captured pictures alive (memory only).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from testbed.stamp import BLOCK as STAMP_BLOCK
from testbed.stamp import StampError, read_stamp

__all__ = ["CaptureRecorder", "main"]

logger = logging.getLogger(__name__)


class CaptureRecorder:
    """Stamp value -> first capture time, plus the recent pictures the benchmark may ask for.

    ``on_captured`` runs on the agent's event loop; ``want`` on the stdin thread.
    """

    def __init__(self, x: int, y: int, keep: int = 30) -> None:
        self.x = x
        self.y = y
        self._keep = keep
        self._lock = threading.Lock()
        self.captured: dict[int, float] = {}
        self.unreadable = 0
        self._recent: collections.OrderedDict[int, npt.NDArray[np.uint8]] = collections.OrderedDict()
        self._wanted: set[int] = set()
        self.kept: dict[int, npt.NDArray[np.uint8]] = {}

    def on_captured(self, image: npt.NDArray[np.uint8], captured_at: float, scale: float = 1.0) -> None:
        """``scale``: picture pixels per screen pixel (a large screen shrunk by the grab)."""
        try:
            if scale == 1.0:
                value = read_stamp(image, x=self.x, y=self.y)
            else:
                value = read_stamp(
                    image, x=round(self.x * scale), y=round(self.y * scale), block=round(STAMP_BLOCK * scale)
                )
        except StampError:
            value = None
        if value is None:
            self.unreadable += 1
            return
        with self._lock:
            if value in self.captured:
                return  # a keep-alive repeat: the first grab is the one that counts
            self.captured[value] = captured_at
            if value in self._wanted:
                self._wanted.discard(value)
                self.kept[value] = image
            self._recent[value] = image
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)

    def want(self, value: int) -> None:
        """Keep the picture with this stamp (now if it is recent, else when it is captured)."""
        with self._lock:
            image = self._recent.get(value)
            if image is not None:
                self.kept[value] = image
            elif value not in self.captured:
                self._wanted.add(value)


def _read_commands(recorder: CaptureRecorder) -> None:
    for line in sys.stdin:
        parts = line.split()
        if len(parts) == 2 and parts[0] == "want" and parts[1].isdigit():
            recorder.want(int(parts[1]))


async def _run(args: argparse.Namespace) -> int:
    from agent.capture import create_source
    from agent.capture.downscale import DEFAULT_MIN_PICTURE
    from agent.encoder import TunedH264Encoder
    from agent.track import DEFAULT_CPU_SHARE, ScreenTrack
    from testbed.customer import Customer

    tuned = args.pipeline == "madoguchi"
    x, y = (int(v) for v in args.stamp.split(","))
    recorder = CaptureRecorder(x, y, keep=args.keep)
    tracks: list[ScreenTrack] = []

    def make_track() -> ScreenTrack:
        track = ScreenTrack(
            # The baseline keeps the screen's size, as before tuning; the tuned agent shrinks
            # large screens in the grab (agent/capture/downscale.py).
            create_source(args.display, min_picture=DEFAULT_MIN_PICTURE if tuned else None),
            max_fps=args.fps,
            on_frame=lambda captured, pts: recorder.on_captured(
                captured.image, captured.captured_at, captured.width / captured.monitor.width
            ),
            # The baseline is our capture as it was before tuning: a grab every tick.
            watch_changes=tuned,
            cpu_share=DEFAULT_CPU_SHARE if tuned else None,
        )
        tracks.append(track)
        return track

    customer = Customer(args.relay, track_factory=make_track)
    customer.start()
    code = await customer.wait_code(30)
    print(f"code {code}", flush=True)
    threading.Thread(target=_read_commands, args=(recorder,), name="bench-commands", daemon=True).start()

    # Keep a reference to the encoder and the peer's state while the session runs:
    # aiortc drops its encoder when the sender stops.
    seen: dict[str, Any] = {}
    watcher_done = asyncio.Event()

    async def watch() -> None:
        while not watcher_done.is_set():
            session = customer.session
            peer = session.peer if session is not None else None
            if peer is not None:
                seen["peer_tuned"] = peer.tuned
                if peer.encoder is not None:
                    seen["encoder"] = peer.encoder
            if tracks:
                seen["watching_changes"] = seen.get("watching_changes", False) or tracks[0].watching_changes
                if tracks[0].budget is not None:
                    seen["budget_fps"] = tracks[0].budget.fps
            await asyncio.sleep(0.25)

    watcher = asyncio.ensure_future(watch())
    try:
        ended = await customer.ended(timeout=args.timeout)
    finally:
        watcher_done.set()
        await watcher
        await customer.stop()

    encoder = seen.get("encoder")
    result = {
        "pipeline": args.pipeline,
        "peer_tuned": seen.get("peer_tuned"),
        "encoder": type(encoder).__name__ if encoder is not None else None,
        "encoder_stats": dataclasses.asdict(encoder.stats) if isinstance(encoder, TunedH264Encoder) else None,
        "watching_changes": seen.get("watching_changes", False),
        "budget_fps": seen.get("budget_fps"),
        "track": dataclasses.asdict(tracks[0].stats) if tracks else None,
        "captured": {str(k): v for k, v in recorder.captured.items()},
        "unreadable_stamps": recorder.unreadable,
        "kept": sorted(recorder.kept),
        "ended": str(ended.reason),
    }
    out = Path(args.out)
    for value, image in recorder.kept.items():
        np.save(out / f"capture-{value}.npy", np.ascontiguousarray(image))
    (out / "agent.json").write_text(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.agent_side", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--relay", required=True)
    parser.add_argument("--pipeline", choices=("baseline", "madoguchi"), required=True)
    parser.add_argument("--display", required=True)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--stamp", default="0,0", help="x,y of the stamp in the captured picture")
    parser.add_argument("--out", required=True, help="directory for agent.json and kept pictures")
    parser.add_argument("--keep", type=int, default=30, help="recent pictures kept for PSNR requests")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(  # MADOGUCHI_AGENT_LOG=INFO: the encoder's cap, probe and scale decisions
        level=os.environ.get("MADOGUCHI_AGENT_LOG", "WARNING").upper(),
        stream=sys.stderr,
        format="agent %(levelname)s %(name)s: %(message)s",
    )
    from client_core import rtc_tuning

    # The baseline is stock aiortc on this side: no codec preference, aiortc's own encoders.
    rtc_tuning.set_tuning_enabled(args.pipeline == "madoguchi")
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
