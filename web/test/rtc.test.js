// The sender's pure parts: codec choice and the bitrate hints on the console's answer.
import assert from "node:assert/strict";
import { test } from "node:test";

import { preferredCodecs, withBitrateHints } from "../static/js/rtc.js";

test("VP8 first, then H.264 constrained baseline with packetization-mode 1, then RTX", () => {
  const codecs = [
    { mimeType: "video/VP9", clockRate: 90000 },
    { mimeType: "video/H264", clockRate: 90000, sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f" },
    { mimeType: "video/rtx", clockRate: 90000 },
    { mimeType: "video/H264", clockRate: 90000, sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" },
    { mimeType: "video/H264", clockRate: 90000, sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f" },
    { mimeType: "video/VP8", clockRate: 90000 },
    { mimeType: "video/AV1", clockRate: 90000 },
  ];
  assert.deepEqual(
    preferredCodecs(codecs).map((c) => `${c.mimeType} ${c.sdpFmtpLine ?? ""}`.trim()),
    ["video/VP8", "video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", "video/rtx"],
  );
});

test("bitrate hints: added to VP8 (new fmtp line) and H.264 (its fmtp), nothing else touched", () => {
  const answer = [
    "v=0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 goog-remb",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "a=rtpmap:98 H264/90000",
    "a=fmtp:98 packetization-mode=1;profile-level-id=42e01f",
    "",
  ].join("\r\n");
  const hints = "x-google-start-bitrate=2500;x-google-min-bitrate=300;x-google-max-bitrate=4000";
  assert.equal(
    withBitrateHints(answer),
    [
      "v=0",
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98",
      "a=rtpmap:96 VP8/90000",
      `a=fmtp:96 ${hints}`,
      "a=rtcp-fb:96 goog-remb",
      "a=rtpmap:97 rtx/90000",
      "a=fmtp:97 apt=96",
      "a=rtpmap:98 H264/90000",
      `a=fmtp:98 packetization-mode=1;profile-level-id=42e01f;${hints}`,
      "",
    ].join("\r\n"),
  );
  assert.equal(withBitrateHints(withBitrateHints(answer)), withBitrateHints(answer));
});
