"""The agent's WebRTC peer: one send-only video track and the guidance channel.

The agent is always the offerer. It offers video *send-only* and opens the
``guidance`` data channel. From the operator it accepts exactly three guidance
messages - ``pointer``, ``key_guide`` and ``key_guide_clear`` - and hands them
to a callback that only draws; ``ping`` is answered with ``pong``. Everything
else (unknown types, garbage, binary, oversized payloads, messages the agent
itself would send) is rejected with a log line and a counter: there is no code
path from the data channel to input injection, file access or anything else (R9).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Sequence

import av
from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.codecs.base import Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from agent.encoder import H264Settings, TunedH264Encoder
from client_core import rtc_tuning
from client_core.rtc import (
    IceAddressMode,
    apply_remote_candidate,
    follow_connection_state,
    ice_host_addresses,
    rtc_configuration,
)
from client_core.turn import TurnProblem, note_problem, turn_gathering
from protocol import (
    GUIDANCE_CHANNEL,
    GuidanceMessage,
    HangUp,
    Ice,
    IceServer,
    KeyGuide,
    KeyGuideClear,
    Ping,
    Pointer,
    Pong,
    ProtocolError,
    decode_guidance,
    encode,
)

__all__ = ["AgentPeer", "GuidanceHandler", "can_encode"]

logger = logging.getLogger(__name__)

GuidanceHandler = Callable[[Pointer | KeyGuide | KeyGuideClear], None]

_ACCEPTED_FROM_OPERATOR = (Pointer, KeyGuide, KeyGuideClear)
_MAX_GUIDANCE_PER_SECOND = 120.0
"""Pointer moves are throttled by the console to ~30/s; anything far above is a flood."""


def can_encode(codec: str) -> bool:
    """Whether this process's FFmpeg has the encoder ``codec`` (``"libvpx"`` is VP8)."""
    try:
        av.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        return False
    return True


class _TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


_REFINE_INTERVAL_S = 0.05
"""While a coarse keyframe is being sharpened, a still picture is repeated this often."""


class AgentPeer:
    """RTCPeerConnection wrapper for the customer side of one session.

    ``tuning`` (default: the process default of :mod:`client_core.rtc_tuning`, on)
    offers H.264 only and encodes with :class:`agent.encoder.TunedH264Encoder`;
    ``False`` leaves aiortc exactly as shipped (VP8 first, its own encoders).
    """

    def __init__(
        self,
        *,
        ice_servers: tuple[IceServer, ...],
        track: MediaStreamTrack,
        on_guidance: GuidanceHandler,
        on_hang_up: Callable[[HangUp], None] | None = None,
        on_connection_state: Callable[[str], None] | None = None,
        on_channel_open: Callable[[], None] | None = None,
        tuning: bool | None = None,
        encoder_settings: H264Settings | None = None,
        host_addresses: IceAddressMode = "auto",
        turn_ssl_context: ssl.SSLContext | None = None,
        on_turn_problem: Callable[[TurnProblem], None] | None = None,
        turn_problems: Sequence[TurnProblem] = (),
    ) -> None:
        self._pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self._on_hang_up = on_hang_up
        self._host_addresses: IceAddressMode = host_addresses
        self._turn_ssl = turn_ssl_context
        self._on_turn_problem = on_turn_problem
        self.turn_problems: list[TurnProblem] = list(turn_problems)
        """TURN servers this peer could not use while gathering (client_core.turn), in order."""
        self.tuned = rtc_tuning.resolve(tuning)
        self._encoder_settings = encoder_settings
        self._sender: RTCRtpSender | None = None
        self._track = track
        self._on_guidance = on_guidance
        self._on_state = on_connection_state
        self._on_channel_open = on_channel_open
        self._channel: RTCDataChannel | None = None
        self._bucket = _TokenBucket(_MAX_GUIDANCE_PER_SECOND, _MAX_GUIDANCE_PER_SECOND)
        self.guidance_accepted = 0
        self.guidance_rejected = 0
        self.connected = asyncio.Event()
        self._closed = False
        follow_connection_state(self._pc, self.connected, self._on_state)

    def _turn_problem(self, problem: TurnProblem) -> None:
        note_problem(self.turn_problems, problem, self._on_turn_problem)

    @property
    def pc(self) -> RTCPeerConnection:
        return self._pc

    @property
    def connection_state(self) -> str:
        return str(self._pc.connectionState)

    async def create_offer(self) -> str:
        """Add the screen track (send-only) and the guidance channel; return the offer SDP."""
        transceiver = self._pc.addTransceiver(self._track, direction="sendonly")
        self._sender = transceiver.sender
        # Both are needed: the tuned encoder is H.264, and without the preference aiortc
        # would negotiate VP8 (its first codec).
        if self.tuned and not (
            rtc_tuning.prefer_codec(transceiver, "video/H264")
            and rtc_tuning.install_encoder(transceiver.sender, self._make_encoder)
        ):
            self.tuned = False
        if not self.tuned and not can_encode("libvpx"):
            # The packaged agent's FFmpeg encodes H.264 only (installer/ffmpeg_build.py):
            # stock aiortc would offer VP8 first and then fail to encode it.
            rtc_tuning.prefer_codec(transceiver, "video/H264")
        request_frame = getattr(self._track, "request_frame", None)
        if self.tuned and callable(request_frame):
            # A static screen sends nothing: answer a keyframe request with a picture now,
            # and again when the encoder's keyframe interval allows, if it is not yet.
            def keyframe_requested() -> None:
                request_frame()
                encoder = self.encoder
                delay = encoder.keyframe_delay() if isinstance(encoder, TunedH264Encoder) else 0.0
                if delay > 0:
                    asyncio.get_running_loop().call_later(delay + 0.01, request_frame)

            rtc_tuning.on_keyframe_request(transceiver.sender, keyframe_requested)
        logger.info("agent peer: %s aiortc", "tuned" if self.tuned else "stock")
        channel = self._pc.createDataChannel(GUIDANCE_CHANNEL, ordered=True)
        self._channel = channel

        @channel.on("message")
        def _message(data: str | bytes) -> None:
            self._handle_guidance(data)

        @channel.on("open")
        def _open() -> None:
            logger.info("guidance channel open")
            if self._on_channel_open is not None:
                self._on_channel_open()

        offer = await self._pc.createOffer()
        with (  # gathering happens in here
            ice_host_addresses(self._host_addresses),
            turn_gathering(ssl_context=self._turn_ssl, on_problem=self._turn_problem),
        ):
            await self._pc.setLocalDescription(offer)
        return str(self._pc.localDescription.sdp)

    def _make_encoder(self, codec: RTCRtpCodecParameters) -> Encoder | None:
        if codec.mimeType.lower() != "video/h264":
            return None  # the remote refused H.264: aiortc's own encoder for what it chose
        request_frame = getattr(self._track, "request_frame", None)
        if not callable(request_frame):
            return TunedH264Encoder(self._encoder_settings)
        loop = asyncio.get_running_loop()
        pending = False

        def repeat() -> None:
            nonlocal pending
            pending = False
            request_frame()

        def encoded(_size: int, _keyframe: bool) -> None:  # on the encoder's thread
            nonlocal pending
            if encoder.refining and not pending:
                # A coarse keyframe (capped to the link) is sharpened by the next frames:
                # a still screen sends none, so ask the track to repeat its picture.
                pending = True
                loop.call_soon_threadsafe(loop.call_later, _REFINE_INTERVAL_S, repeat)

        encoder = TunedH264Encoder(self._encoder_settings, on_encoded=encoded)
        return encoder

    @property
    def encoder(self) -> Encoder | None:
        """The video encoder in use (None until the first frame is encoded with stock aiortc)."""
        return rtc_tuning.sender_encoder(self._sender) if self._sender is not None else None

    async def apply_answer(self, sdp: str) -> None:
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def add_ice(self, ice: Ice) -> None:
        try:
            await apply_remote_candidate(self._pc, ice)
        except (ValueError, IndexError) as exc:
            logger.warning("bad remote ICE candidate ignored: %s", type(exc).__name__)

    def send(self, message: GuidanceMessage) -> bool:
        """Send an agent -> operator guidance message (sharing state, monitors, sysinfo, cursor)."""
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return False
        channel.send(encode(message))
        return True

    @property
    def channel_open(self) -> bool:
        return self._channel is not None and self._channel.readyState == "open"

    def _handle_guidance(self, data: str | bytes) -> None:
        if not self._bucket.take():
            self._reject("rate limit exceeded")
            return
        if not isinstance(data, str):
            self._reject("binary message")
            return
        try:
            message = decode_guidance(data)
        except ProtocolError as exc:
            self._reject(exc.detail)
            return
        if isinstance(message, Ping):
            self.send(Pong(seq=message.seq))
            return
        if isinstance(message, HangUp):
            if self._on_hang_up is not None:
                self._on_hang_up(message)
            return
        if not isinstance(message, _ACCEPTED_FROM_OPERATOR):
            self._reject(f"{message.type} is not accepted from the operator")
            return
        self.guidance_accepted += 1
        try:
            self._on_guidance(message)
        except Exception:
            # A drawing bug must not take the session down.
            logger.exception("guidance handler failed on %s", message.type)

    def _reject(self, why: str) -> None:
        self.guidance_rejected += 1
        # Log the first few and then every 100th so a flood cannot fill the disk.
        if self.guidance_rejected <= 10 or self.guidance_rejected % 100 == 0:
            logger.warning("guidance message rejected (%d so far): %s", self.guidance_rejected, why)

    async def close(self, *, keep_track: bool = False) -> None:
        """Close the connection; the screen track stops with it unless ``keep_track``.

        ``keep_track``: a new peer of the same session takes the track over (a restart,
        client_core.peer_restart). The sender lets go of it first, because aiortc's
        sender stops the track it holds when it stops."""
        if self._closed:
            return
        self._closed = True
        if keep_track:
            if self._sender is not None:
                self._sender.replaceTrack(None)
        else:
            self._track.stop()
        await self._pc.close()
