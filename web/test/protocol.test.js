// The browser's protocol module against docs/protocol.md's examples.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MAX_RESTART,
  ProtocolError,
  agentSocketUrl,
  decodeOperatorGuidance,
  decodeRelayMessage,
  encode,
  helloMessage,
  isOperatorCode,
  offerMessage,
} from "../static/js/protocol.js";

const hello = { client: /** @type {const} */ ("browser"), scope: /** @type {const} */ ("normal"), clientVersion: "web-1", locale: "ja" };

test("register and join carry the browser's client kind and the normal scope", () => {
  assert.deepEqual(JSON.parse(encode(helloMessage(hello, null))), {
    type: "register",
    protocol_version: 1,
    client: "browser",
    sysinfo_scope: "normal",
    client_version: "web-1",
    consent_accepted: true,
    locale: "ja",
  });
  const join = helloMessage(hello, "482913");
  assert.equal(join.type, "join");
  assert.equal(/** @type {import("../static/js/protocol.js").Join} */ (join).code, "482913");
  assert.throws(() => helloMessage(hello, "48291"), ProtocolError);
  assert.throws(() => helloMessage(hello, "４８２９１３"), ProtocolError);
});

test("isOperatorCode takes exactly six ASCII digits", () => {
  assert.ok(isOperatorCode("000000"));
  for (const bad of ["", "12345", "1234567", "12345a", " 123456", "١٢٣٤٥٦"]) assert.ok(!isOperatorCode(bad), bad);
});

test("the relay's messages decode, with defaults and unknown fields dropped", () => {
  assert.deepEqual(decodeRelayMessage('{"type":"registered","code":"4821","expires_in_s":600.0,"resume_token":"x","new":1}'), {
    type: "registered",
    code: "4821",
    expires_in_s: 600,
    resume_token: "x",
  });
  const request = decodeRelayMessage(
    '{"type":"operator_request","operator":{"display_name":"佐藤 花子","organisation":"Madoguchi Securities"},"timeout_s":60.0}',
  );
  assert.equal(request.type, "operator_request");
  const start = decodeRelayMessage(
    '{"type":"session_start","session_id":"q0x8","ice_servers":[{"urls":["turn:t.example:3478"],"username":"u","credential":"c"}]}',
  );
  assert.deepEqual(start, {
    type: "session_start",
    session_id: "q0x8",
    ice_servers: [{ urls: ["turn:t.example:3478"], username: "u", credential: "c" }],
  });
  assert.deepEqual(decodeRelayMessage('{"type":"ice","candidate":""}'), {
    type: "ice",
    candidate: "",
    sdp_mid: null,
    sdp_mline_index: null,
  });
  assert.deepEqual(decodeRelayMessage('{"type":"error","code":"busy","message":"m","retry_after_s":60.0,"fatal":true}'), {
    type: "error",
    code: "busy",
    message: "m",
    retry_after_s: 60,
    fatal: true,
  });
  assert.deepEqual(decodeRelayMessage('{"type":"ended","reason":"denied","by":"agent"}'), {
    type: "ended",
    reason: "denied",
    by: "agent",
  });
});

test("anything else from the relay is a ProtocolError", () => {
  for (const bad of [
    "not json",
    "[]",
    '{"type":"claim","code":"4821"}',
    '{"type":"registered","code":"12","expires_in_s":1,"resume_token":"x"}',
    '{"type":"registered","code":"4821","expires_in_s":-1,"resume_token":"x"}',
    '{"type":"ended","reason":"normal","by":"someone"}',
    '{"type":"session_start","session_id":"s","ice_servers":[{"urls":"x"}]}',
    '{"type":"answer","sdp":""}',
    '{"type":"answer","sdp":"v=0","restart":1.5}',
    '{"type":"answer","sdp":"v=0","restart":-1}',
    '{"type":"answer","sdp":"v=0","restart":"1"}',
    '{"type":"answer","sdp":"v=0","restart":1000001}',
    '{"type":"peer_status"}',
  ]) {
    assert.throws(() => decodeRelayMessage(bad), ProtocolError, bad);
  }
});

test("the operator's relay link blinking is news, not a broken relay", () => {
  assert.deepEqual(decodeRelayMessage('{"type":"peer_status","connected":false}'), {
    type: "peer_status",
    connected: false,
  });
});

test("the operator's guidance: pointer, key guide, ping; nothing that clicks or types", () => {
  assert.deepEqual(decodeOperatorGuidance('{"type":"pointer","x":0.25,"y":0.75}'), {
    type: "pointer",
    action: "move",
    x: 0.25,
    y: 0.75,
    monitor: 0,
  });
  assert.deepEqual(decodeOperatorGuidance('{"type":"ping","seq":17}'), { type: "ping", seq: 17 });
  assert.equal(decodeOperatorGuidance('{"type":"key_guide","keys":[["Ctrl","C"]]}').type, "key_guide");
  // The operator's end, end to end: the only thing the customer's side does with it is stop.
  assert.deepEqual(decodeOperatorGuidance('{"type":"hang_up"}'), { type: "hang_up", reason: "normal" });
  // The relay lost this page's socket while the media flows: the page resumes on a fresh one.
  assert.deepEqual(decodeOperatorGuidance('{"type":"relay_away"}'), { type: "relay_away" });
  assert.deepEqual(decodeOperatorGuidance('{"type":"hang_up","reason":"connection_lost"}'), {
    type: "hang_up",
    reason: "connection_lost",
  });
  for (const bad of [
    '{"type":"pointer","x":1.5,"y":0}',
    '{"type":"click","x":0.5,"y":0.5}',
    '{"type":"key_guide","keys":[]}',
    '{"type":"sysinfo","scope":"normal","data":{},"unavailable":{}}',
  ]) {
    assert.throws(() => decodeOperatorGuidance(bad), ProtocolError, bad);
  }
});

test("encode refuses a message over 64 KiB", () => {
  const sdp = "x".repeat(70 * 1024);
  assert.throws(() => encode({ type: "offer", sdp }), ProtocolError);
});

test("the socket URL follows the page's scheme and host", () => {
  assert.equal(agentSocketUrl("http://127.0.0.1:8765/share?lang=en"), "ws://127.0.0.1:8765/ws/agent");
  assert.equal(agentSocketUrl("https://support.example.com/share"), "wss://support.example.com/ws/agent");
});

test("restart: an answer without it is the first peer's, and an offer leaves it out at 0", () => {
  assert.deepEqual(decodeRelayMessage('{"type":"answer","sdp":"v=0"}'), { type: "answer", sdp: "v=0", restart: 0 });
  assert.deepEqual(decodeRelayMessage('{"type":"answer","sdp":"v=0","restart":3}'), {
    type: "answer",
    sdp: "v=0",
    restart: 3,
  });
  assert.equal(encode(offerMessage("v=0", 0)), '{"type":"offer","sdp":"v=0"}');
  assert.equal(encode(offerMessage("v=0", 2)), '{"type":"offer","sdp":"v=0","restart":2}');
  for (const bad of [-1, 1.5, MAX_RESTART + 1]) assert.throws(() => offerMessage("v=0", bad), ProtocolError);
});
