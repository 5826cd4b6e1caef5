"""The aiortc extensions on real peers over loopback: tuned, stock, and the stuck-last-frame case."""

from __future__ import annotations

import asyncio
import fractions
import pathlib
import socket

import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from av import VideoFrame

from agent.encoder import H264Settings, TunedH264Encoder
from agent.peer import AgentPeer
from benchmarks.stats import negotiated_video_codec
from client_core import rtc_tuning
from client_core.frame_buffer import FrameBuffer
from operator_console.frames import FrameSink
from operator_console.peer import OperatorPeer

TIME_BASE = fractions.Fraction(1, 90_000)


class Frames(MediaStreamTrack):
    """Send-on-change in miniature: ``count`` frames (or endless ones at 30 fps), then silence."""

    kind = "video"

    def __init__(self, count: int | None) -> None:
        super().__init__()
        self.count = count
        self.sent = 0
        self._silence = asyncio.Event()

    def request_frame(self) -> None:
        """Like ScreenTrack: a keyframe request makes the quiet track send one more picture."""
        if self.count is not None:
            self.count += 1
            self._silence.set()

    async def recv(self) -> VideoFrame:
        if self.count is not None and self.sent >= self.count:
            self._silence.clear()
            await self._silence.wait()  # a static screen: nothing more until asked
        await asyncio.sleep(1 / 30)
        image = np.zeros((240, 320, 3), np.uint8)
        image[:, : 40 + 10 * (self.sent % 20)] = (255, 128, 0)
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.sent * 3000
        frame.time_base = TIME_BASE
        self.sent += 1
        return frame


class Pair:
    def __init__(
        self,
        track: MediaStreamTrack,
        *,
        agent_tuning: bool,
        operator_tuning: bool,
        encoder_settings: H264Settings | None = None,
    ) -> None:
        self.agent = AgentPeer(
            ice_servers=(),
            track=track,
            encoder_settings=encoder_settings,
            on_guidance=lambda m: None,
            tuning=agent_tuning,
            host_addresses="loopback",
        )
        self.operator = OperatorPeer(
            ice_servers=(),
            sink=FrameSink(),
            on_agent_message=lambda m: None,
            tuning=operator_tuning,
            host_addresses="loopback",
        )

    async def connect(self) -> None:
        answer = await self.operator.accept_offer(await self.agent.create_offer())
        await self.agent.apply_answer(answer)
        await asyncio.wait_for(self.agent.connected.wait(), 20)

    def video_codec(self) -> str | None:
        return negotiated_video_codec(str(self.operator.pc.localDescription.sdp))

    def jitter_buffer(self) -> JitterBuffer | None:
        receiver = next(t.receiver for t in self.operator.pc.getTransceivers() if t.kind == "video")
        return rtc_tuning.receiver_jitter_buffer(receiver)

    async def close(self) -> None:
        await self.agent.close()
        await self.operator.close()


async def wait_until(predicate: object, timeout: float = 10.0) -> None:
    assert callable(predicate)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


_RMEM = pathlib.Path("/proc/sys/net/core/rmem_max")
_RMEM_MAX = int(_RMEM.read_text(encoding="ascii")) if _RMEM.exists() else None


def _ice_receive_buffers(pc: RTCPeerConnection) -> list[int]:
    """SO_RCVBUF of every socket under the peer's ICE transports (through aioice's private list)."""
    sizes = []
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport._connection
        for protocol in connection._protocols:
            sock = protocol.transport.get_extra_info("socket")
            sizes.append(int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)))
    return sizes


async def test_tuned_pair_uses_h264_our_encoder_and_marker_buffer() -> None:
    pair = Pair(Frames(None), agent_tuning=True, operator_tuning=True)
    try:
        await pair.connect()
        assert pair.agent.tuned
        assert pair.operator.tuned
        assert pair.video_codec() == "H264"
        assert isinstance(pair.jitter_buffer(), FrameBuffer)
        # The operator's ICE sockets got the receive buffer asked for, as far as the OS allows
        # (Linux grants min(asked, net.core.rmem_max) and reports twice that).
        sizes = _ice_receive_buffers(pair.operator.pc)
        assert sizes
        if _RMEM_MAX is not None:
            assert set(sizes) == {2 * min(rtc_tuning.RECEIVE_BUFFER_BYTES, _RMEM_MAX)}
        await wait_until(lambda: pair.operator.sink.frames_received >= 10)
        encoder = pair.agent.encoder
        assert isinstance(encoder, TunedH264Encoder)
        # The sender is paced (idle on this loopback: the cap is at its maximum).
        pacer = rtc_tuning.sender_pacer(pair.agent.pc.getTransceivers()[0].sender)
        assert pacer is not None
        assert pacer.delayed == 0
        buffer = pair.jitter_buffer()
        assert isinstance(buffer, FrameBuffer)
        assert buffer.counters.released >= 10
        keyframes = encoder.stats.keyframes
        assert keyframes == 1
        assert await pair.operator.request_keyframe() == 1
        await wait_until(lambda: encoder.stats.keyframes == keyframes + 1)
        image = pair.operator.sink.latest()
        assert image is not None
        assert image.shape == (240, 320, 3)
    finally:
        await pair.close()


async def test_stock_pair_is_aiortc_as_shipped() -> None:
    pair = Pair(Frames(None), agent_tuning=False, operator_tuning=False)
    try:
        await pair.connect()
        assert pair.video_codec() == "VP8"
        assert type(pair.jitter_buffer()) is JitterBuffer
        await wait_until(lambda: pair.operator.sink.frames_received >= 5)
        assert not isinstance(pair.agent.encoder, TunedH264Encoder)
    finally:
        await pair.close()


@pytest.mark.parametrize("operator_tuning", [True, False], ids=["marker", "stock"])
async def test_last_frame_before_a_quiet_screen(operator_tuning: bool) -> None:
    """Three frames, then nothing: the marker buffer shows the third; aiortc's holds it back."""
    # Started as on a known LAN: the path probe, ending on this fast path, asks the track to
    # repeat its picture once (to sharpen the probe's coarse keyframe) - a next frame that
    # would release the third one from aiortc's buffer too.
    settings = H264Settings(start_bitrate=None)
    pair = Pair(Frames(3), agent_tuning=True, operator_tuning=operator_tuning, encoder_settings=settings)
    try:
        await pair.connect()
        await wait_until(lambda: pair.operator.sink.frames_received >= 2)
        await asyncio.sleep(1.0)
        if operator_tuning:
            assert pair.operator.sink.frames_received == 3
        else:
            assert pair.operator.sink.frames_received == 2  # stuck until a next frame that never comes
    finally:
        await pair.close()


async def test_keyframe_request_on_a_quiet_screen_is_answered_at_once() -> None:
    track = Frames(2)
    pair = Pair(track, agent_tuning=True, operator_tuning=True)
    try:
        await pair.connect()
        await wait_until(lambda: pair.operator.sink.frames_received == 2)
        encoder = pair.agent.encoder
        assert isinstance(encoder, TunedH264Encoder)
        assert encoder.stats.keyframes == 1
        assert await pair.operator.request_keyframe() == 1
        # At once, or as soon as the encoder's keyframe interval (0.5 s) after the first allows.
        await wait_until(lambda: encoder.stats.keyframes == 2, timeout=1.0)
        await wait_until(lambda: pair.operator.sink.frames_received >= 3, timeout=1.0)
    finally:
        await pair.close()
