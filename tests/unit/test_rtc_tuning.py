"""client_core.rtc_tuning: version pinning, the process default, and installing on real aiortc objects."""

from __future__ import annotations

import pytest
from aiortc import RTCPeerConnection, VideoStreamTrack
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtcpPsfbPacket, RtpPacket, unpack_remb_fci

from agent.encoder import TunedH264Encoder
from agent.peer import AgentPeer
from client_core import rtc_tuning
from client_core.frame_buffer import FrameBuffer
from client_core.path_probe import FLOOR, HEADROOM
from client_core.rtp_repair import NackGenerator


def test_installed_aiortc_is_verified() -> None:
    assert rtc_tuning.aiortc_version() in rtc_tuning.VERIFIED_AIORTC_VERSIONS
    assert rtc_tuning.verified()


def test_unknown_aiortc_version_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rtc_tuning, "aiortc_version", lambda: "1.17.0")
    monkeypatch.setattr(rtc_tuning, "_warned", False)
    assert not rtc_tuning.verified()
    assert rtc_tuning.resolve(True) is False
    assert rtc_tuning.resolve(None) is False
    assert "not one of" in caplog.text
    # A peer built on such a version runs stock aiortc.
    peer = AgentPeer(ice_servers=(), track=VideoStreamTrack(), on_guidance=lambda m: None)
    assert peer.tuned is False


def test_process_default_and_explicit_choice() -> None:
    assert rtc_tuning.tuning_enabled()
    try:
        rtc_tuning.set_tuning_enabled(False)
        assert rtc_tuning.resolve(None) is False
        assert rtc_tuning.resolve(True) is True
    finally:
        rtc_tuning.set_tuning_enabled(True)
    assert rtc_tuning.resolve(None) is True
    assert rtc_tuning.resolve(False) is False


async def test_codec_preference_and_encoder_slot_on_a_real_sender() -> None:
    pc = RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        assert rtc_tuning.prefer_codec(transceiver, "video/H264")
        offer = await pc.createOffer()
        video = offer.sdp.split("m=video", 1)[1]
        assert "H264/90000" in video
        assert "VP8" not in video
        assert "profile-level-id=42e01f" in video
        created: list[str] = []

        def factory(codec: object) -> TunedH264Encoder:
            created.append(str(getattr(codec, "mimeType", "")))
            return TunedH264Encoder()

        assert rtc_tuning.install_encoder(transceiver.sender, factory)
        assert rtc_tuning.sender_encoder(transceiver.sender) is None  # filled at send()
        assert not rtc_tuning.prefer_codec(transceiver, "video/AV1")
    finally:
        await pc.close()


async def test_jitter_buffer_swap_on_a_real_receiver() -> None:
    pc = RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        stock = rtc_tuning.receiver_jitter_buffer(transceiver.receiver)
        assert type(stock) is JitterBuffer
        ours = FrameBuffer()
        assert rtc_tuning.install_jitter_buffer(transceiver.receiver, ours)
        assert rtc_tuning.receiver_jitter_buffer(transceiver.receiver) is ours
        # Wired to the NACK generator (packets past repair in, skipped packets out).
        generator = vars(transceiver.receiver)["_RTCRtpReceiver__nack_generator"]
        assert isinstance(generator, NackGenerator)
        assert ours.on_skip == generator.discard_before
        assert "_handle_rtp_packet" in vars(transceiver.receiver)  # every released frame is decoded
    finally:
        await pc.close()


async def test_the_path_probe_answers_the_first_train_with_a_remb_and_bounds_aiortcs() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("video", direction="recvonly").receiver
        sent: list[object] = []

        async def capture(packet: object) -> None:
            sent.append(packet)

        receiver._send_rtcp = capture  # type: ignore[method-assign]
        receiver._set_rtcp_ssrc(4321)
        assert rtc_tuning.install_jitter_buffer(receiver, FrameBuffer())
        probe = rtc_tuning.receiver_path_probe(receiver)
        assert probe is not None
        estimator = vars(receiver)["_RTCRtpReceiver__remote_bitrate_estimator"]
        # aiortc's estimator says nothing before the path is measured.
        assert estimator.add(0, 0, 1000, 1234) is None
        # A 20-packet keyframe through a 2 Mbit/s bottleneck: 1000 bytes every 4 ms.
        for k in range(20):
            packet = RtpPacket(payload_type=96, sequence_number=k, timestamp=0, ssrc=1234, marker=k == 19)
            packet.payload = b"x" * 988  # 1000 bytes with the header
            await receiver._handle_rtp_packet(packet, arrival_time_ms=1000 + 4 * k)
        assert len(sent) == 1
        remb = sent[0]
        assert isinstance(remb, RtcpPsfbPacket)
        bitrate, ssrcs = unpack_remb_fci(remb.fci)
        assert ssrcs == [1234]
        assert bitrate == pytest.approx(HEADROOM * 2_000_000, rel=0.05)
        # aiortc's rate control now starts there, and never grants more than the ceiling.
        assert estimator.rate_control.current_bitrate == bitrate
        estimator.rate_control.current_bitrate = 30_000_000
        granted = None
        for t in range(1100, 3000, 10):
            granted = estimator.add(t, (t * 262) & 0xFFFFFF, 1000, 1234) or granted
        assert granted is not None
        assert granted[0] <= bitrate
        # Nor less than FLOOR x the capacity, whatever queueing aiortc's estimator thinks it saw.
        estimator.rate_control.current_bitrate = 100_000
        grants = [estimator.add(t, (t * 262) & 0xFFFFFF, 1000, 1234) for t in range(3000, 4000, 10)]
        lowest = min(g[0] for g in grants if g is not None)
        assert lowest == pytest.approx(FLOOR * 2_000_000, rel=0.05)
    finally:
        await pc.close()


def test_installers_refuse_objects_without_the_private_slots() -> None:
    class NotASender:
        pass

    assert not rtc_tuning.install_encoder(NotASender(), lambda codec: None)  # type: ignore[arg-type]
    assert not rtc_tuning.install_jitter_buffer(NotASender(), FrameBuffer())  # type: ignore[arg-type]


@pytest.mark.parametrize("vp8_available", [True, False])
async def test_a_stock_peer_offers_only_what_this_ffmpeg_can_encode(
    monkeypatch: pytest.MonkeyPatch, vp8_available: bool
) -> None:
    # The packaged agent's FFmpeg encodes H.264 only (installer/ffmpeg_build.py): there a stock
    # peer must not offer VP8, aiortc's first choice, which it could not encode.
    import agent.peer

    assert agent.peer.can_encode("libx264")
    assert not agent.peer.can_encode("no-such-codec")
    monkeypatch.setattr(agent.peer, "can_encode", lambda codec: vp8_available)
    peer = AgentPeer(ice_servers=(), track=VideoStreamTrack(), on_guidance=lambda m: None, tuning=False)
    try:
        video = (await peer.create_offer()).split("m=video", 1)[1]
    finally:
        await peer.close()
    assert "H264/90000" in video
    assert ("VP8/90000" in video) is vp8_available
