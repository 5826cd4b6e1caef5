"""The operator's WebRTC peer: receives the customer's screen, sends guidance.

The operator is always the answerer and receives video only. Guidance it may
send is limited to what the agent draws (pointer, key guide, clear); from the
agent it accepts sharing state, monitor list, system information and the
customer's cursor (position and shape, handed to ``on_cursor``). A co-browse
customer (docs/cobrowse.md) sends no media but a second data channel, ``cobrowse``,
whose messages go to ``on_cobrowse`` as they are; the operator answers it with
``cobrowse_pointer`` messages only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import time
from collections.abc import Callable, Sequence

from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from client_core import rtc_tuning
from client_core.frame_buffer import FrameBuffer
from client_core.rtc import (
    IceAddressMode,
    apply_remote_candidate,
    follow_connection_state,
    ice_host_addresses,
    rtc_configuration,
)
from client_core.turn import TurnProblem, note_problem, turn_gathering
from operator_console.frames import FrameSink
from protocol import (
    GUIDANCE_CHANNEL,
    AgentGuidance,
    CobrowsePointer,
    Cursor,
    CursorShape,
    GuidanceMessage,
    HangUp,
    Ice,
    IceServer,
    KeyGuide,
    KeyGuideClear,
    KeyGuideClosed,
    Monitors,
    Ping,
    Pointer,
    Pong,
    ProtocolError,
    RelayAway,
    SharingState,
    SysInfoReport,
    decode_guidance,
    encode,
)

__all__ = ["COBROWSE_CHANNEL", "ConnectionStats", "OperatorPeer"]

logger = logging.getLogger(__name__)

_FROM_AGENT = (SharingState, Monitors, SysInfoReport, KeyGuideClosed)
COBROWSE_CHANNEL = "cobrowse"
"""The co-browse customer's channel for page content (docs/protocol.md §5a)."""


@dataclasses.dataclass(frozen=True)
class ConnectionStats:
    """What the status bar shows. Rates are over the last sampling interval.

    ``rtt_ms`` is the data-channel round trip (ping/pong), the delay a pointer
    move really has; ``frames_dropped`` counts decoded frames replaced before the
    viewer took them (see FrameSink).
    """

    fps: float
    bitrate_kbps: float
    rtt_ms: float | None
    frames_received: int
    frames_dropped: int
    bytes_received: int
    packets_lost: int


class OperatorPeer:
    """RTCPeerConnection wrapper for the operator side of one session.

    ``tuning`` (default: the process default of :mod:`client_core.rtc_tuning`, on)
    reassembles video with :class:`client_core.frame_buffer.FrameBuffer`, so
    a frame is decoded as soon as its last packet is in; ``False`` keeps aiortc's.
    """

    def __init__(
        self,
        *,
        ice_servers: tuple[IceServer, ...],
        sink: FrameSink,
        on_agent_message: Callable[[AgentGuidance], None],
        on_hang_up: Callable[[HangUp], None] | None = None,
        on_connection_state: Callable[[str], None] | None = None,
        tuning: bool | None = None,
        host_addresses: IceAddressMode = "auto",
        on_cursor: Callable[[Cursor | CursorShape], None] | None = None,
        turn_ssl_context: ssl.SSLContext | None = None,
        on_turn_problem: Callable[[TurnProblem], None] | None = None,
        turn_problems: Sequence[TurnProblem] = (),
        on_cobrowse: Callable[[bytes | str], None] | None = None,
    ) -> None:
        self._pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self._on_hang_up = on_hang_up
        self._on_cursor = on_cursor
        self._on_cobrowse = on_cobrowse
        self.cobrowse_bytes = 0
        """What the ``cobrowse`` channel brought (aiortc's statistics cover media transports only)."""
        self._host_addresses: IceAddressMode = host_addresses
        self._turn_ssl = turn_ssl_context
        self._on_turn_problem = on_turn_problem
        self.turn_problems: list[TurnProblem] = list(turn_problems)
        """TURN servers this peer could not use while gathering (client_core.turn), in order."""
        self.tuned = rtc_tuning.resolve(tuning)
        self.sink = sink
        self._on_agent_message = on_agent_message
        self._on_state = on_connection_state
        self._channel: RTCDataChannel | None = None
        self._frame_task: asyncio.Task[None] | None = None
        self.channel_open = asyncio.Event()
        self.connected = asyncio.Event()
        self.rejected_messages = 0
        self._last_bytes: tuple[float, int] | None = None
        self._ping_seq = 0
        self._pings: dict[int, float] = {}
        self.rtt_ms: float | None = None
        self._bitrate_kbps = 0.0
        self._closed = False
        follow_connection_state(self._pc, self.connected, self._on_state)

        @self._pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and self._frame_task is None:
                self._frame_task = asyncio.ensure_future(self._pull_frames(track))

        @self._pc.on("datachannel")
        def _datachannel(channel: RTCDataChannel) -> None:
            if channel.label == COBROWSE_CHANNEL and self._on_cobrowse is not None:
                channel.on("message", self._cobrowse_message)
                return
            if channel.label != GUIDANCE_CHANNEL:
                logger.warning("unexpected data channel %r ignored", channel.label)
                return
            self._channel = channel
            channel.on("message", self._handle_message)
            if channel.readyState == "open":
                self.channel_open.set()
            channel.on("open", self.channel_open.set)

    def _cobrowse_message(self, data: bytes | str) -> None:
        self.cobrowse_bytes += len(data.encode() if isinstance(data, str) else data)
        if self._on_cobrowse is not None:
            self._on_cobrowse(data)

    def _turn_problem(self, problem: TurnProblem) -> None:
        note_problem(self.turn_problems, problem, self._on_turn_problem)

    @property
    def pc(self) -> RTCPeerConnection:
        return self._pc

    async def accept_offer(self, sdp: str) -> str:
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        for transceiver in self._pc.getTransceivers():
            if transceiver.kind == "video":
                transceiver.direction = "recvonly"
                # No packet can arrive before the agent has our answer: safe to swap now.
                if self.tuned and not rtc_tuning.install_jitter_buffer(transceiver.receiver, FrameBuffer()):
                    self.tuned = False
        logger.info("operator peer: %s aiortc", "tuned" if self.tuned else "stock")
        answer = await self._pc.createAnswer()
        with (  # gathering happens in here
            ice_host_addresses(self._host_addresses),
            turn_gathering(ssl_context=self._turn_ssl, on_problem=self._turn_problem),
        ):
            await self._pc.setLocalDescription(answer)
        if self.tuned:
            granted = rtc_tuning.enlarge_receive_buffers(self._pc)
            logger.debug("receive buffers enlarged on %d ICE socket(s)", granted)
        return str(self._pc.localDescription.sdp)

    async def add_ice(self, ice: Ice) -> None:
        try:
            await apply_remote_candidate(self._pc, ice)
        except (ValueError, IndexError) as exc:
            logger.warning("bad remote ICE candidate ignored: %s", type(exc).__name__)

    def ping(self) -> bool:
        """Send a round-trip probe; ``rtt_ms`` is updated when the pong arrives."""
        self._ping_seq += 1
        # Keep only recent probes so lost pongs cannot grow the table.
        self._pings = {seq: t for seq, t in self._pings.items() if seq > self._ping_seq - 8}
        self._pings[self._ping_seq] = time.monotonic()
        return self._send(Ping(seq=self._ping_seq))

    def send(
        self, message: Pointer | CobrowsePointer | KeyGuide | KeyGuideClear | HangUp | RelayAway
    ) -> bool:
        return self._send(message)

    @property
    def connection_state(self) -> str:
        return str(self._pc.connectionState)

    def _send(self, message: GuidanceMessage) -> bool:
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return False
        channel.send(encode(message))
        return True

    def _handle_message(self, data: str | bytes) -> None:
        message: GuidanceMessage
        try:
            if not isinstance(data, str):
                raise ProtocolError("binary message")
            message = decode_guidance(data)
        except ProtocolError as exc:
            self.rejected_messages += 1
            logger.warning("message from agent rejected: %s", exc.detail)
            return
        if isinstance(message, Pong):
            sent = self._pings.pop(message.seq, None)
            if sent is not None:
                self.rtt_ms = (time.monotonic() - sent) * 1000.0
            return
        if isinstance(message, Cursor | CursorShape):
            if self._on_cursor is not None:
                self._on_cursor(message)
            return
        if isinstance(message, HangUp):
            if self._on_hang_up is not None:
                self._on_hang_up(message)
            return
        if not isinstance(message, _FROM_AGENT):
            self.rejected_messages += 1
            logger.warning("%s is not accepted from the agent", message.type)
            return
        self._on_agent_message(message)

    async def _pull_frames(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.sink.push(frame)  # type: ignore[arg-type]

    async def request_keyframe(self) -> int:
        """Ask the agent for a complete picture now (RTCP PLI); returns how many requests went out."""
        sent = 0
        for transceiver in self._pc.getTransceivers():
            if transceiver.kind == "video":
                sent += await rtc_tuning.request_keyframe(transceiver.receiver)
        return sent

    async def stats(self) -> ConnectionStats:
        report = await self._pc.getStats()
        bytes_received = 0
        packets_lost = 0
        for stat in report.values():
            kind = getattr(stat, "type", "")
            if kind == "inbound-rtp":
                packets_lost += int(getattr(stat, "packetsLost", 0) or 0)
            elif kind == "transport":
                # aiortc's inbound-rtp has no byte count; the (bundled) transport's
                # bytes are the media plus the little guidance traffic.
                bytes_received += int(getattr(stat, "bytesReceived", 0) or 0)
        if not self._pc.getTransceivers():  # no media (co-browsing): the page's channel is the traffic
            bytes_received += self.cobrowse_bytes
        now = time.monotonic()
        if self._last_bytes is not None and now > self._last_bytes[0]:
            elapsed = now - self._last_bytes[0]
            self._bitrate_kbps = (bytes_received - self._last_bytes[1]) * 8 / 1000 / elapsed
        self._last_bytes = (now, bytes_received)
        return ConnectionStats(
            fps=self.sink.fps(),
            bitrate_kbps=self._bitrate_kbps,
            rtt_ms=self.rtt_ms,
            frames_received=self.sink.frames_received,
            frames_dropped=self.sink.frames_dropped,
            bytes_received=bytes_received,
            packets_lost=packets_lost,
        )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._frame_task is not None:
            self._frame_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._frame_task
        await self._pc.close()
