"""One agent-operator media session run inside an emulated link, reporting what was shown.

``python -m testbed.link_session --seconds 9`` (run it under a
:class:`testbed.linkemu.namespace.LinkNamespace` ``exec_prefix``) connects a real
:class:`agent.peer.AgentPeer` and :class:`operator_console.peer.OperatorPeer` over the
namespace's loopback, sends a changing 640x360 picture at 30 fps, and prints one JSON
line: for every picture sent, when; for every picture the operator's decoder gave,
when and which (its index, read from a stamp painted in the picture; -1 if garbled);
the operator's frame buffer counters; aiortc's decode errors. The functional tests
judge the behaviour from it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import fractions
import json
import logging
import time
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack
from av import VideoFrame

from agent.peer import AgentPeer
from client_core import rtc_tuning
from operator_console.frames import FrameSink
from operator_console.peer import OperatorPeer
from testbed.stamp import paint_stamp, read_stamp

__all__ = ["run"]

_TIME_BASE = fractions.Fraction(1, 90_000)
_TICKS = 3000  # 30 fps in RTP ticks


class _Pictures(MediaStreamTrack):
    """30 fps of a moving, detailed picture; remembers when each one was sent."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.sent_at: list[float] = []
        self._rng = np.random.default_rng(7)
        self._base = (self._rng.random((360, 640, 3)) * 255).astype(np.uint8)

    def request_frame(self) -> None:  # frames flow all the time: nothing to do
        pass

    async def recv(self) -> VideoFrame:
        await asyncio.sleep(1 / 30)
        index = len(self.sent_at)
        # New detail in a band every frame (a few dozen packets a frame), a moving bar.
        band = (index * 48) % 288
        self._base[band : band + 48] = self._rng.integers(0, 256, (48, 640, 3), np.uint8)
        image = self._base.copy()
        image[:, (index * 8) % 600 : (index * 8) % 600 + 40] = (255, 128, 0)
        paint_stamp(image, index, x=432, y=288)
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = index * _TICKS
        frame.time_base = _TIME_BASE
        self.sent_at.append(time.monotonic())
        return frame


class _Shown(FrameSink):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple[float, int]] = []

    def push(self, frame: VideoFrame) -> Any:
        now = time.monotonic()
        image = super().push(frame)
        index = read_stamp(image, x=432, y=288)
        self.shown.append((now, -1 if index is None else index))
        return image


class _DecodeErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.at: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" in record.getMessage():
            self.count += 1
            self.at.append(time.monotonic())


def _as_dict(value: object) -> dict[str, Any] | None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return None


async def run(seconds: float, tuning: bool) -> dict[str, Any]:
    errors = _DecodeErrors()
    logging.getLogger("aiortc.rtcrtpreceiver").addHandler(errors)
    track = _Pictures()
    sink = _Shown()
    agent = AgentPeer(
        ice_servers=(), track=track, on_guidance=lambda m: None, tuning=tuning, host_addresses="loopback"
    )
    operator = OperatorPeer(
        ice_servers=(), sink=sink, on_agent_message=lambda m: None, tuning=tuning, host_addresses="loopback"
    )
    try:
        answer = await operator.accept_offer(await agent.create_offer())
        await agent.apply_answer(answer)
        await asyncio.wait_for(agent.connected.wait(), 20)
        await asyncio.sleep(seconds)
        receiver = next(t.receiver for t in operator.pc.getTransceivers() if t.kind == "video")
        buffer = rtc_tuning.receiver_jitter_buffer(receiver)
        counters = getattr(buffer, "counters", None)
        generator = getattr(vars(receiver).get("_RTCRtpReceiver__nack_generator"), "counters", None)
        encoder = agent.encoder
        stats = getattr(encoder, "stats", None)
        pacer = rtc_tuning.sender_pacer(agent.pc.getTransceivers()[0].sender)
        return {
            "nack": _as_dict(generator),
            "encoder": _as_dict(stats),
            "pacer": {"delayed": pacer.delayed, "delayed_s": round(pacer.delayed_s, 3)} if pacer else None,
            "tuned": operator.tuned,
            "sent_at": track.sent_at,
            "shown": sink.shown,
            "buffer": _as_dict(counters),
            "decode_errors": errors.count,
            "decode_errors_at": errors.at,
        }
    finally:
        await agent.close()
        await operator.close()
        logging.getLogger("aiortc.rtcrtpreceiver").removeHandler(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=9.0)
    parser.add_argument("--stock", action="store_true", help="stock aiortc on both sides")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.seconds, tuning=not args.stock))), flush=True)


if __name__ == "__main__":
    main()
