// @ts-check
/**
 * The browser's WebRTC sender: the customer's screen to the console's aiortc receiver.
 *
 * The console answers (operator_console/peer.py); the browser offers one send-only video
 * track and the `guidance` data channel, as the agent does (docs/protocol.md §3 step 7).
 * aiortc decodes VP8 and H.264 constrained baseline only, so the offer lists those two
 * (VP8 first: libvpx in aiortc has no packetization-mode or profile pitfalls) plus the
 * retransmission format; the encoder is capped so a 1080p screen stays readable without
 * flooding a customer's uplink.
 * @module rtc
 */

import { GUIDANCE_CHANNEL } from "./protocol.js";

/** @typedef {import("./protocol.js").IceServer} IceServer */

/** What getDisplayMedia is asked for: the whole screen preferred, no audio, at most 1080p30. */
export const DISPLAY_MEDIA_OPTIONS = /** @type {DisplayMediaStreamOptions} */ ({
  video: { displaySurface: "monitor", width: { max: 1920 }, height: { max: 1080 }, frameRate: { max: 30 } },
  audio: false,
  selfBrowserSurface: "exclude",
  surfaceSwitching: "include",
  monitorTypeSurfaces: "include",
});

/**
 * Encoder caps: room for sharp text on a scrolling 1080p screen (it settles near 1.9 Mbit/s
 * and 37.7 dB on a LAN, docs/browser.md); on a slower uplink loss and REMB bring it down.
 */
export const MAX_BITRATE_BPS = 4_000_000;
export const MAX_FRAMERATE = 30;

/**
 * Chromium's start and floor for its bandwidth estimate, in kbit/s (see withBitrateHints).
 * aiortc's REMB only lets the estimate climb from what arrives, so a start of 1500 kept
 * the stream near 1 Mbit/s and 30 dB; 2500 starts where a 1080p screen needs to be.
 */
export const START_BITRATE_KBPS = 2500;
export const MIN_BITRATE_KBPS = 300;
/** How long the data channel gets to send `hang_up` before the peer connection closes. */
const HANG_UP_FLUSH_MS = 50;

/**
 * The console's answer with Chromium's bitrate hints added to each VP8/H.264 format.
 *
 * aiortc gives REMB feedback but not transport-cc, so Chromium's estimate starts at its
 * default 300 kbit/s and climbs some 8 % a second: a 1080p screen is blurred or a few
 * frames a second for the first half minute. `x-google-start-bitrate` starts it where a
 * screen needs it; loss and REMB still bring it down on a poor link, to the floor.
 * @param {string} sdp
 * @returns {string}
 */
export function withBitrateHints(sdp) {
  const hints = `x-google-start-bitrate=${START_BITRATE_KBPS};x-google-min-bitrate=${MIN_BITRATE_KBPS};x-google-max-bitrate=${MAX_BITRATE_BPS / 1000}`;
  const lines = sdp.split("\r\n");
  const payloads = new Set();
  for (const line of lines) {
    const m = /^a=rtpmap:(\d+) (VP8|H264)\/90000/i.exec(line);
    if (m) payloads.add(m[1]);
  }
  const withFmtp = new Set();
  const out = lines.map((line) => {
    const m = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (m && payloads.has(m[1])) {
      withFmtp.add(m[1]);
      return line.includes("x-google-") ? line : `${line};${hints}`;
    }
    return line;
  });
  const result = [];
  for (const line of out) {
    result.push(line);
    const m = /^a=rtpmap:(\d+) /.exec(line);
    if (m && payloads.has(m[1]) && !withFmtp.has(m[1])) result.push(`a=fmtp:${m[1]} ${hints}`);
  }
  return result.join("\r\n");
}

/**
 * The codecs aiortc receives reliably, in order of preference; other codecs are dropped
 * from the offer. H.264 must be constrained baseline with packetization-mode 1.
 * @param {RTCRtpCodec[]} codecs what the browser can send (RTCRtpSender.getCapabilities)
 * @returns {RTCRtpCodec[]}
 */
export function preferredCodecs(codecs) {
  const vp8 = codecs.filter((c) => c.mimeType.toLowerCase() === "video/vp8");
  const h264 = codecs.filter((c) => {
    if (c.mimeType.toLowerCase() !== "video/h264") return false;
    const fmtp = c.sdpFmtpLine ?? "";
    return /profile-level-id=42e0/i.test(fmtp) && /packetization-mode=1/.test(fmtp);
  });
  const rtx = codecs.filter((c) => c.mimeType.toLowerCase() === "video/rtx");
  return [...vp8, ...h264, ...rtx];
}

/**
 * @typedef {object} SenderHandlers
 * @property {(candidate: RTCIceCandidate | null) => void} candidate a local candidate to trickle (null: the end)
 * @property {(state: RTCPeerConnectionState) => void} state the connection state changed
 * @property {(text: string) => void} guidance a message arrived on the guidance channel
 * @property {() => void} channelOpen the guidance channel opened
 */

/** One session's peer connection on the customer's side. */
export class ScreenSender {
  /**
   * @param {MediaStreamTrack} track the display track (getDisplayMedia)
   * @param {IceServer[]} iceServers from `session_start`
   * @param {SenderHandlers} handlers
   */
  constructor(track, iceServers, handlers) {
    this.track = track;
    this.pc = new RTCPeerConnection({ iceServers: iceServers.map(toRtcIceServer) });
    this.handlers = handlers;
    this.channel = this.pc.createDataChannel(GUIDANCE_CHANNEL, { ordered: true });
    this.channel.addEventListener("open", () => handlers.channelOpen());
    this.channel.addEventListener("message", (event) => {
      if (typeof event.data === "string") handlers.guidance(event.data);
    });
    this.pc.addEventListener("icecandidate", (event) => handlers.candidate(event.candidate));
    this.pc.addEventListener("connectionstatechange", () => handlers.state(this.pc.connectionState));
    // "Text" tells the encoder to keep detail and drop frames rather than blur (screen content).
    track.contentHint = "text";
    this.transceiver = this.pc.addTransceiver(track, {
      direction: "sendonly",
      sendEncodings: [{ maxBitrate: MAX_BITRATE_BPS, maxFramerate: MAX_FRAMERATE }],
    });
    const capabilities = RTCRtpSender.getCapabilities("video");
    if (capabilities !== null && "setCodecPreferences" in this.transceiver) {
      const codecs = preferredCodecs(capabilities.codecs);
      if (codecs.length > 0) this.transceiver.setCodecPreferences(codecs);
    }
  }

  /** @returns {Promise<string>} the offer's SDP, set as the local description */
  async offer() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return this.pc.localDescription?.sdp ?? offer.sdp ?? "";
  }

  /** @param {string} sdp */
  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: "answer", sdp: withBitrateHints(sdp) });
  }

  /**
   * @param {string} candidate `""` is the end of candidates
   * @param {string | null} sdpMid
   * @param {number | null} sdpMLineIndex
   */
  async addCandidate(candidate, sdpMid, sdpMLineIndex) {
    if (candidate === "") {
      await this.pc.addIceCandidate(null);
      return;
    }
    await this.pc.addIceCandidate({ candidate: `candidate:${candidate.replace(/^candidate:/, "")}`, sdpMid, sdpMLineIndex });
  }

  /**
   * Pause: the sender stops sending frames at all (not black frames): the operator keeps the
   * last picture and is told by `sharing_state`.
   * @param {boolean} paused
   */
  async pause(paused) {
    await this.transceiver.sender.replaceTrack(paused ? null : this.track);
  }

  /** @param {string} text */
  sendGuidance(text) {
    if (this.channel.readyState === "open") this.channel.send(text);
  }

  close() {
    this.channel.close();
    this.pc.close();
  }

  /**
   * The customer ended it: say so on the data channel first, which reaches the operator
   * before the relay's `ended` (the closing peer would otherwise read as a lost connection),
   * then close after a moment for the message to leave, as the agent does.
   * @param {string} reason
   */
  hangUp(reason) {
    if (this.channel.readyState !== "open") {
      this.close();
      return;
    }
    this.channel.send(JSON.stringify({ type: "hang_up", reason }));
    setTimeout(() => this.close(), HANG_UP_FLUSH_MS);
  }
}

/**
 * @param {IceServer} server
 * @returns {RTCIceServer}
 */
function toRtcIceServer(server) {
  /** @type {RTCIceServer} */
  const out = { urls: server.urls };
  if (server.username) out.username = server.username;
  if (server.credential) out.credential = server.credential;
  return out;
}
