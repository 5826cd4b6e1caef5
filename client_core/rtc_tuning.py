"""Where Madoguchi extends aiortc for low-latency screen video, pinned to verified versions.

Per-connection extensions (nothing process-wide is patched, so a
stock peer and a tuned peer can live in one process, as in ``madoguchi bench``):

* the agent offers H.264 only (``RTCRtpTransceiver.setCodecPreferences``, public API);
* the agent's sender encodes with :class:`agent.encoder.TunedH264Encoder` instead of
  the encoder aiortc would create (``install_encoder``: sets the sender's private
  encoder slot just before ``RTCRtpSender.send`` starts its RTP task; aiortc creates
  an encoder only when that slot is empty);
* the operator's receiver reassembles video with
  :class:`client_core.frame_buffer.FrameBuffer` (``install_jitter_buffer``:
  replaces the receiver's private jitter buffer before any packet arrives, tells it
  the negotiated codec's keyframe test, and wraps the receiver's ``_handle_rtp_packet``
  so every frame one packet completes reaches aiortc's decoder queue, not only the
  first).

* the operator's ICE sockets get a larger receive buffer (``enlarge_receive_buffers``:
  through the ICE transport's private aioice connection). A keyframe of a text screen
  is hundreds of kilobytes sent in one burst; the operating system's default UDP
  buffer (about 200 KB on Linux, far less on Windows, and each datagram takes about
  twice its size in it) overflows while the Python receiver is busy, the receiver
  asks for a keyframe again, and the next burst overflows too.

* the agent's sender keeps :class:`client_core.rtp_repair.PacketHistory` (``install_packet_history``,
  called by ``install_encoder``: replaces the sender's private 128-packet history
  and wraps its ``_retransmit``); the operator's receiver uses
  :class:`client_core.rtp_repair.NackGenerator` (``install_nack_generator``, called
  by ``install_jitter_buffer``: replaces the private NACK generator; past repair,
  it tells the frame buffer, which drops what cannot be decoded and asks for a
  keyframe).

* the agent's sender paces its RTP packets (:class:`client_core.pacer.Pacer`,
  ``install_pacer``, called by ``install_encoder``: wraps the DTLS transport's
  ``_send_rtp`` for this sender's SSRCs) while the encoder's cap is held down by the
  path's estimate, tells the encoder of every retransmission request (its loss signal)
  and lets the packet history forget what came before a keyframe.

* the operator's receiver measures the path from how the sender's first keyframe (a
  burst) spreads (:class:`client_core.path_probe.PathProbe`, ``install_path_probe``,
  called by ``install_jitter_buffer``): it answers with a REMB at once and keeps aiortc's
  REMBs between 0.5 and 0.85 x the measured capacity; while the agent's encoder probes
  (``encoder.probing``) its packets leave unpaced, so the burst is a burst.

``request_keyframe`` sends a PLI from a receiver (aiortc has no public call for it);
``on_keyframe_request`` tells the agent when its sender got one, so a send-on-change
track can send a picture at once instead of at the next change.

The private names involved exist in aiortc 1.16.0, the version these extensions
were verified on (``VERIFIED_AIORTC_VERSIONS``). On any other version ``resolve``
answers False, logs why, and the peers run stock aiortc: slower, never broken. Each
installer also checks that the private attribute it replaces is really there and
refuses (returns False) if not.

The process default (used when a peer is given ``tuning=None``) is on; the
benchmark's baseline and ``MADOGUCHI_STOCK_AIORTC=1`` switch it off.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.clock import current_ntp_time
from aiortc.codecs.base import Encoder
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpSendParameters
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, is_rtcp, pack_remb_fci

from client_core.frame_buffer import (
    FrameBuffer,
    h264_payload_starts_keyframe,
    h264_starts_keyframe,
    vp8_starts_keyframe,
)
from client_core.pacer import PACING_FACTOR, Pacer
from client_core.path_probe import PathProbe
from client_core.rtp_repair import NackGenerator, PacketHistory

__all__ = [
    "VERIFIED_AIORTC_VERSIONS",
    "EncoderFactory",
    "aiortc_version",
    "enlarge_receive_buffers",
    "install_encoder",
    "install_nack_generator",
    "install_packet_history",
    "install_pacer",
    "install_path_probe",
    "receiver_path_probe",
    "sender_pacer",
    "install_jitter_buffer",
    "on_keyframe_request",
    "prefer_codec",
    "receiver_jitter_buffer",
    "request_keyframe",
    "resolve",
    "sender_encoder",
    "set_tuning_enabled",
    "tuning_enabled",
    "verified",
]

logger = logging.getLogger(__name__)

VERIFIED_AIORTC_VERSIONS = frozenset({"1.16.0"})
"""aiortc versions whose internals the extensions were read against and tested on."""

# Name-mangled private attributes of aiortc 1.16's RTCRtpSender / RTCRtpReceiver.
_SENDER_ENCODER = "_RTCRtpSender__encoder"
_RECEIVER_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_RECEIVER_SEND_PLI = "_send_rtcp_pli"
_SENDER_KEYFRAME = "_send_keyframe"
_SENDER_HISTORY = "_RTCRtpSender__rtp_history"
_SENDER_RTT = "_RTCRtpSender__rtt"
_SENDER_RETRANSMIT = "_retransmit"
_RECEIVER_NACK_GENERATOR = "_RTCRtpReceiver__nack_generator"
_RECEIVER_HANDLE_RTP = "_handle_rtp_packet"
_SENDER_EXTENSIONS_MAP = "_RTCRtpSender__rtp_header_extensions_map"
_TRANSPORT_SEND_RTP = "_send_rtp"
_SENDER_PACER = "_madoguchi_pacer"  # ours, on the sender instance
_RECEIVER_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_RECEIVER_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
_RECEIVER_TIMESTAMP_MAPPER = "_RTCRtpReceiver__timestamp_mapper"
_RECEIVER_CODECS = "_RTCRtpReceiver__codecs"
_RECEIVER_ESTIMATOR = "_RTCRtpReceiver__remote_bitrate_estimator"
_RECEIVER_RTCP_SSRC = "_RTCRtpReceiver__rtcp_ssrc"
_RECEIVER_PROBE = "_madoguchi_path_probe"  # ours, on the receiver instance

EncoderFactory = Callable[[RTCRtpCodecParameters], Encoder | None]
"""Given the negotiated codec, the encoder to use, or None for aiortc's own."""

_enabled = os.environ.get("MADOGUCHI_STOCK_AIORTC", "").lower() not in ("1", "true", "yes")
_warned = False


def aiortc_version() -> str:
    return importlib.metadata.version("aiortc")


def verified() -> bool:
    """True if the installed aiortc is one the extensions were verified on."""
    return aiortc_version() in VERIFIED_AIORTC_VERSIONS


def set_tuning_enabled(enabled: bool) -> None:
    """Process default for peers created with ``tuning=None``."""
    global _enabled
    if enabled != _enabled:
        logger.info("aiortc tuning default %s -> %s", _enabled, enabled)
    _enabled = enabled


def tuning_enabled() -> bool:
    return _enabled


def resolve(tuning: bool | None) -> bool:
    """Whether a new peer runs tuned: its own choice, else the process default; never on
    an aiortc version the extensions were not verified on."""
    global _warned
    wanted = _enabled if tuning is None else tuning
    if wanted and not verified():
        if not _warned:
            _warned = True
            logger.warning(
                "aiortc %s is not one of %s: streaming tuning is off, stock aiortc is used",
                aiortc_version(),
                sorted(VERIFIED_AIORTC_VERSIONS),
            )
        return False
    return wanted


def prefer_codec(transceiver: RTCRtpTransceiver, mime_type: str) -> bool:
    """Offer only ``mime_type`` (plus RTX) on this transceiver; False if aiortc lacks it."""
    capabilities = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    wanted = mime_type.lower()
    preferred = [c for c in capabilities if c.mimeType.lower() == wanted]
    if not preferred:
        logger.warning("codec %s not available: default codec preferences kept", mime_type)
        return False
    # Constrained baseline (profile-level-id 42e01f) first: it is what our encoder produces.
    preferred.sort(key=lambda c: str(c.parameters.get("profile-level-id", "")) != "42e01f")
    rtx = [c for c in capabilities if c.mimeType.lower() == "video/rtx"]
    transceiver.setCodecPreferences(preferred + rtx)
    return True


def install_encoder(sender: RTCRtpSender, factory: EncoderFactory) -> bool:
    """Make ``sender`` encode with ``factory(codec)`` for the codec negotiated at ``send()``."""
    if _SENDER_ENCODER not in vars(sender):
        logger.warning("RTCRtpSender has no %s: tuned encoder not installed", _SENDER_ENCODER)
        return False
    original: Callable[[RTCRtpSendParameters], Awaitable[None]] = sender.send

    async def send(parameters: RTCRtpSendParameters) -> None:
        # aiortc's RTP task encodes with parameters.codecs[0] and creates an encoder
        # only while the slot is empty; fill it before the task starts.
        if parameters.codecs and getattr(sender, _SENDER_ENCODER) is None:
            encoder = factory(parameters.codecs[0])
            if encoder is not None:
                setattr(sender, _SENDER_ENCODER, encoder)
                logger.info("%s encoded by %s", parameters.codecs[0].mimeType, type(encoder).__name__)
                if isinstance(getattr(encoder, "cap", None), int | float):
                    install_pacer(sender, lambda: _pacing_rate(encoder))
                note = getattr(encoder, "note_retransmission_request", None)
                history = vars(sender).get(_SENDER_HISTORY)
                if callable(note) and isinstance(history, PacketHistory):
                    history.on_request = note
                if isinstance(history, PacketHistory) and parameters.codecs[0].name == "H264":
                    history.starts_keyframe = h264_payload_starts_keyframe
        await original(parameters)

    sender.send = send  # type: ignore[method-assign]
    install_packet_history(sender)
    return True


def install_packet_history(sender: RTCRtpSender) -> PacketHistory | None:
    """Give ``sender`` a retransmission history of max(1 s, 3 x RTT) (see :mod:`client_core.rtp_repair`)."""
    original = getattr(sender, _SENDER_RETRANSMIT, None)
    if not isinstance(vars(sender).get(_SENDER_HISTORY), dict) or not callable(original):
        logger.warning("RTCRtpSender has no %s: packet history left at aiortc's", _SENDER_HISTORY)
        return None

    def rtt() -> float | None:
        value = vars(sender).get(_SENDER_RTT)
        return float(value) if isinstance(value, int | float) else None

    history = PacketHistory(time.monotonic, rtt)

    async def retransmit(sequence_number: int) -> None:
        packet = history.lookup(sequence_number)
        if packet is None:
            return
        # aiortc's _retransmit reads history.get() before its first await: hand it this packet.
        history.pending = packet
        try:
            await original(sequence_number)
        finally:
            history.pending = None

    setattr(sender, _SENDER_HISTORY, history)
    setattr(sender, _SENDER_RETRANSMIT, retransmit)
    return history


def _pacing_rate(encoder: Any) -> float | None:
    # Paced only while the path's estimate holds the cap down (a slow link); on a LAN a
    # keyframe leaves at once, as before (pacing it at the 3 Mbit/s cap would take ~1 s).
    # While the encoder probes the path its first keyframe leaves as one burst: the
    # receiver measures the link from how that burst spreads (client_core.path_probe).
    if getattr(encoder, "probing", False) or not getattr(encoder, "constrained", True):
        return None
    return PACING_FACTOR * float(encoder.cap)


def install_pacer(sender: RTCRtpSender, rate_bps: Callable[[], float | None]) -> Pacer | None:
    """Pace the RTP packets ``sender`` sends (:class:`client_core.pacer.Pacer`) at ``rate_bps()``.

    aiortc's sender awaits its DTLS transport's ``_send_rtp`` for every packet, so the
    transport's method is wrapped on this instance: RTP packets of this sender's SSRC
    wait their turn, retransmissions (its RTX SSRC) leave at once and count, everything
    else (RTCP, other senders' packets) passes. A packet held back gets its abs-send-time header
    extension rewritten to the moment it really leaves (the receiver's delay-based
    estimate must not see the pacer's wait as queueing in the network).
    """
    transport = getattr(sender, "transport", None)
    original = getattr(transport, _TRANSPORT_SEND_RTP, None)
    extensions = vars(sender).get(_SENDER_EXTENSIONS_MAP)
    if not callable(original) or extensions is None:
        logger.warning("RTCRtpSender has no transport to pace: packets leave unpaced")
        return None
    pacer = Pacer(time.monotonic, rate_bps)
    paced_ssrcs = {sender._ssrc, sender._rtx_ssrc}

    async def send_rtp(data: bytes) -> None:
        ssrc = int.from_bytes(data[8:12], "big") if len(data) >= 12 else None
        if ssrc in paced_ssrcs and not is_rtcp(data):
            # Retransmissions (RTX) go first: the receiver's frames wait for them.
            wait = pacer.delay(len(data), priority=ssrc == sender._rtx_ssrc)
            if wait > 0:
                await asyncio.sleep(wait)
                packet = RtpPacket.parse(data, extensions)
                if packet.extensions.abs_send_time is not None:
                    packet.extensions.abs_send_time = (current_ntp_time() >> 14) & 0x00FFFFFF
                    data = packet.serialize(extensions)
        await original(data)

    setattr(transport, _TRANSPORT_SEND_RTP, send_rtp)
    setattr(sender, _SENDER_PACER, pacer)
    return pacer


def sender_pacer(sender: RTCRtpSender) -> Pacer | None:
    pacer = vars(sender).get(_SENDER_PACER)
    return pacer if isinstance(pacer, Pacer) else None


def install_nack_generator(
    receiver: RTCRtpReceiver, frame_buffer: FrameBuffer | None = None
) -> NackGenerator | None:
    """Give a video ``receiver`` the NACK generator of :mod:`client_core.rtp_repair`: long memory,
    a retry per RTT, and a keyframe request (PLI) as soon as a gap is past repair.

    With a ``frame_buffer``, packets past repair are handed to it instead (it asks for a
    keyframe only if they matter: not when it already skipped past them), and it tells
    the generator what it dropped."""
    if vars(receiver).get(_RECEIVER_NACK_GENERATOR) is None:
        logger.warning("RTCRtpReceiver has no %s: NACK generator left at aiortc's", _RECEIVER_NACK_GENERATOR)
        return None
    tasks: set[asyncio.Task[None]] = set()

    def past_repair(ssrc: int) -> None:
        # Looked up at call time, so a wrapper installed later (the benchmark's log) sees it.
        send_pli = getattr(receiver, _RECEIVER_SEND_PLI)
        task = asyncio.get_running_loop().create_task(send_pli(ssrc))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    if frame_buffer is None:
        generator = NackGenerator(time.monotonic, past_repair)
    else:
        generator = NackGenerator(time.monotonic, lambda ssrc: None, on_lost=frame_buffer.forget)
        frame_buffer.on_skip = generator.discard_before
    setattr(receiver, _RECEIVER_NACK_GENERATOR, generator)
    return generator


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> bool:
    """Call ``callback`` too whenever the remote asks ``sender`` for a keyframe (PLI/FIR)."""
    original = getattr(sender, _SENDER_KEYFRAME, None)
    if not callable(original):
        logger.warning("RTCRtpSender has no %s: keyframe requests not forwarded", _SENDER_KEYFRAME)
        return False

    def send_keyframe() -> None:
        original()  # aiortc: the next encoded frame is a keyframe
        callback()

    setattr(sender, _SENDER_KEYFRAME, send_keyframe)
    return True


def sender_encoder(sender: RTCRtpSender) -> Encoder | None:
    """The encoder a sender uses now (None before the first frame with stock aiortc)."""
    encoder: Any = vars(sender).get(_SENDER_ENCODER)
    return encoder if isinstance(encoder, Encoder) else None


def install_jitter_buffer(receiver: RTCRtpReceiver, buffer: JitterBuffer) -> bool:
    """Replace a (not yet receiving) receiver's jitter buffer; False if aiortc has none there.

    A :class:`client_core.frame_buffer.FrameBuffer` also gets the codec's keyframe test, a
    NACK generator wired to it, and every frame it releases delivered to the decoder."""
    current = vars(receiver).get(_RECEIVER_JITTER_BUFFER)
    if not isinstance(current, JitterBuffer):
        logger.warning("RTCRtpReceiver has no %s: jitter buffer not replaced", _RECEIVER_JITTER_BUFFER)
        return False
    if isinstance(buffer, FrameBuffer):
        if not _deliver_every_frame(receiver, buffer):
            return False
        setattr(receiver, _RECEIVER_JITTER_BUFFER, buffer)
        install_nack_generator(receiver, buffer)
        install_path_probe(receiver)
        return True
    setattr(receiver, _RECEIVER_JITTER_BUFFER, buffer)
    install_nack_generator(receiver)
    return True


def _deliver_every_frame(receiver: RTCRtpReceiver, buffer: FrameBuffer) -> bool:
    """Wrap the receiver's ``_handle_rtp_packet``: aiortc decodes the one frame the jitter
    buffer's ``add`` returns; the others one packet completed go to its decoder queue after it."""
    state = vars(receiver)
    names = (_RECEIVER_DECODER_QUEUE, _RECEIVER_TIMESTAMP_MAPPER, _RECEIVER_CODECS, _RECEIVER_DECODER_THREAD)
    original = getattr(receiver, _RECEIVER_HANDLE_RTP, None)
    if not callable(original) or any(name not in state for name in names):
        logger.warning("RTCRtpReceiver lacks the decoder hooks: frame buffer not installed")
        return False
    codecs: dict[int, RTCRtpCodecParameters] = state[_RECEIVER_CODECS]

    def starts_keyframe(packet: Any) -> bool:
        codec = codecs.get(packet.payload_type)
        data = getattr(packet, "_data", b"")
        name = codec.name if codec is not None else ""
        if name == "H264":
            return h264_starts_keyframe(data)
        if name == "VP8":
            return vp8_starts_keyframe(data)
        return True  # unknown codec: no reference chain to protect

    buffer.starts_keyframe = starts_keyframe

    async def handle_rtp_packet(packet: Any, arrival_time_ms: int) -> None:
        await original(packet, arrival_time_ms)
        extra = buffer.take_ready()
        if not extra or state.get(_RECEIVER_DECODER_THREAD) is None:
            return
        for ready in extra:
            codec = codecs.get(ready.payload_type)
            if codec is not None:
                ready.frame.timestamp = state[_RECEIVER_TIMESTAMP_MAPPER].map(ready.frame.timestamp)
                state[_RECEIVER_DECODER_QUEUE].put((codec, ready.frame))

    setattr(receiver, _RECEIVER_HANDLE_RTP, handle_rtp_packet)
    return True


def install_path_probe(receiver: RTCRtpReceiver) -> PathProbe | None:
    """Measure the path's capacity from packet trains and bound the receiver's REMB by it.

    aiortc 1.16's receiver estimator (``aiortc.rate.RemoteBitrateEstimator``) sends no
    REMB for its first 3 s (only on overuse) and then climbs from what it received, so
    a sender that starts low stays low for long and one that starts high floods a slow
    link. With :class:`client_core.path_probe.PathProbe` fed every packet, the first
    train of ``min_packets`` (the sender's first keyframe, sent as one burst) gives the
    capacity: a REMB of ``HEADROOM`` x capacity goes out at once and seeds aiortc's rate
    control there (``AimdRateControl.set_estimate``); aiortc's own REMBs are held back
    until then and stay between ``FLOOR`` and ``HEADROOM`` x the capacity afterwards. Replaces the
    private ``__remote_bitrate_estimator`` with a wrapper and wraps ``_handle_rtp_packet``.
    """
    state = vars(receiver)
    estimator = state.get(_RECEIVER_ESTIMATOR)
    original = getattr(receiver, _RECEIVER_HANDLE_RTP, None)
    send_rtcp = getattr(receiver, "_send_rtcp", None)
    if not isinstance(estimator, RemoteBitrateEstimator) or not callable(original) or not callable(send_rtcp):
        logger.warning("RTCRtpReceiver has no %s: REMB left to aiortc", _RECEIVER_ESTIMATOR)
        return None
    probe = PathProbe()
    add = estimator.add

    def bounded_add(
        arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        remb = add(arrival_time_ms, abs_send_time, payload_size, ssrc)
        ceiling, floor = probe.ceiling(), probe.floor()
        if remb is None or ceiling is None or floor is None:
            return None  # nothing before the path is measured: the sender keeps its start
        bitrate = max(int(floor), min(remb[0], int(ceiling)))
        # Climb from the ceiling, not from above it.
        estimator.rate_control.current_bitrate = min(estimator.rate_control.current_bitrate, bitrate)
        return bitrate, remb[1]

    async def handle_rtp_packet(packet: Any, arrival_time_ms: int) -> None:
        before = probe.ceiling()
        sample = probe.add(
            packet.ssrc,
            arrival_time_ms,
            seq=packet.sequence_number,
            timestamp=packet.timestamp,
            marker=bool(packet.marker),
            size=len(packet.payload) + 12,
        )
        await original(packet, arrival_time_ms)
        ceiling = probe.ceiling()
        rtcp_ssrc = state.get(_RECEIVER_RTCP_SSRC)
        if sample is None or ceiling is None or rtcp_ssrc is None:
            return
        current = estimator.rate_control.current_bitrate
        if before is None or ceiling < current:
            # The first measurement, or one that lowers the ceiling: tell the sender now.
            bitrate = int(ceiling) if before is None else min(current, int(ceiling))
            estimator.rate_control.set_estimate(bitrate, arrival_time_ms)
            logger.info("path probe: %.0f kbit/s measured, REMB %d kbit/s", sample / 1000, bitrate // 1000)
            remb = RtcpPsfbPacket(
                fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(bitrate, [packet.ssrc])
            )
            await send_rtcp(remb)

    estimator.add = bounded_add  # type: ignore[method-assign]
    setattr(receiver, _RECEIVER_HANDLE_RTP, handle_rtp_packet)
    setattr(receiver, _RECEIVER_PROBE, probe)
    return probe


def receiver_path_probe(receiver: RTCRtpReceiver) -> PathProbe | None:
    probe = vars(receiver).get(_RECEIVER_PROBE)
    return probe if isinstance(probe, PathProbe) else None


def receiver_jitter_buffer(receiver: RTCRtpReceiver) -> JitterBuffer | None:
    buffer = vars(receiver).get(_RECEIVER_JITTER_BUFFER)
    return buffer if isinstance(buffer, JitterBuffer) else None


async def request_keyframe(receiver: RTCRtpReceiver) -> int:
    """Ask the sender for a keyframe (RTCP PLI) on every SSRC seen lately; returns how many."""
    send_pli = getattr(receiver, _RECEIVER_SEND_PLI, None)
    if send_pli is None:
        logger.warning("RTCRtpReceiver has no %s: keyframe not requested", _RECEIVER_SEND_PLI)
        return 0
    sources = receiver.getSynchronizationSources()
    for source in sources:
        await send_pli(source.source)
    return len(sources)


RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
"""What ``enlarge_receive_buffers`` asks for; the OS may grant less (Linux: ``net.core.rmem_max``)."""


def enlarge_receive_buffers(pc: Any, size: int = RECEIVE_BUFFER_BYTES) -> int:
    """Ask for ``size``-byte receive buffers on every ICE socket of ``pc``; returns how many were set.

    Call after ``setLocalDescription`` (the sockets exist once candidates are gathered).
    Uses aiortc's private ``RTCIceTransport._connection`` and aioice's
    ``Connection._protocols``; anything missing is logged and skipped.
    """
    count = 0
    seen: set[int] = set()  # bundled transceivers share one ICE connection
    for transceiver in pc.getTransceivers():
        ice = getattr(getattr(transceiver.receiver, "transport", None), "transport", None)
        connection = getattr(ice, "_connection", None)
        if id(connection) in seen:
            continue
        seen.add(id(connection))
        protocols = getattr(connection, "_protocols", None)
        if not isinstance(protocols, list):
            logger.warning("no aioice protocols on the ICE transport: receive buffers left as they are")
            continue
        for protocol in protocols:
            transport = getattr(protocol, "transport", None)
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is None:
                continue
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
            except OSError as exc:
                logger.warning("SO_RCVBUF %d refused: %s", size, exc)
                continue
            count += 1
    return count
