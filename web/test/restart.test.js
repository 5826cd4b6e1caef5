// When the page offers a new peer connection in the same session: the decision, in memory.
import assert from "node:assert/strict";
import { test } from "node:test";

import { GIVE_UP_MS, PeerRestart, connectionType } from "../static/js/restart.js";

/** A session whose first peer connected at t=0, relay socket up. */
function live() {
  const restart = new PeerRestart();
  restart.relay(true);
  restart.peerStarted(0);
  restart.peerState(0, "connected");
  return restart;
}

test("a connected peer that stays connected restarts nothing", () => {
  const restart = live();
  assert.equal(restart.poll(1000), null);
  assert.equal(restart.poll(120_000), null);
});

test("disconnected for the grace: a new peer with the next generation", () => {
  const restart = live();
  restart.peerState(10_000, "disconnected");
  assert.equal(restart.poll(11_000), null); // Chrome may come back on the same pair
  assert.deepEqual(restart.poll(11_500), { kind: "offer", generation: 1, why: "peer_failed" });
  assert.equal(restart.poll(11_600), null); // once
  restart.peerStarted(11_600);
  restart.peerState(12_000, "connected");
  assert.equal(restart.attempts, 0);
  assert.equal(restart.poll(30_000), null);
});

test("a blink shorter than the grace restarts nothing", () => {
  const restart = live();
  restart.peerState(10_000, "disconnected");
  restart.peerState(10_800, "connected");
  assert.equal(restart.poll(20_000), null);
});

test("a network change restarts at once, even before the peer notices", () => {
  const restart = live();
  restart.networkChanged(5000);
  assert.deepEqual(restart.poll(5000), { kind: "offer", generation: 1, why: "network_changed" });
});

test("a network change before the first picture is not a reason", () => {
  const restart = new PeerRestart();
  restart.relay(true);
  restart.peerStarted(0);
  restart.networkChanged(100);
  assert.equal(restart.poll(200), null);
});

test("the first peer failing ends the session, as before restarts existed", () => {
  const restart = new PeerRestart();
  restart.relay(true);
  restart.peerStarted(0);
  restart.peerState(3000, "failed");
  assert.deepEqual(restart.poll(4500), { kind: "give_up", why: "peer_failed" });
  assert.equal(restart.poll(5000), null);
});

test("the offer waits for the relay socket and goes as soon as it is back", () => {
  const restart = live();
  restart.relay(false);
  restart.peerState(1000, "disconnected");
  assert.equal(restart.poll(5000), null);
  restart.relay(true);
  assert.deepEqual(restart.poll(5100), { kind: "offer", generation: 1, why: "peer_failed" });
});

test("a new peer that does not connect is replaced with backoff, and the old one's late states are not news", () => {
  const restart = live();
  restart.peerState(0, "failed");
  const offers = [];
  for (let now = 0; now <= 59_000; now += 250) {
    const action = restart.poll(now);
    if (action?.kind === "offer") {
      offers.push([now, action.generation, action.why]);
      restart.peerStarted(now);
    }
  }
  // grace, then 10 s connect timeouts; the backoff (1, 2, 4, 8 s) is shorter than each wait
  assert.deepEqual(
    offers.map(([, g, why]) => [g, why]),
    [
      [1, "peer_failed"],
      [2, "no_connection"],
      [3, "no_connection"],
      [4, "no_connection"],
      [5, "no_connection"],
      [6, "no_connection"],
    ],
  );
  assert.equal(offers[0][0], 1500);
  assert.equal(offers[1][0], 11_500);
  // the limit: no seventh restart, the session ends
  assert.deepEqual(restart.poll(61_500), { kind: "give_up", why: "no_connection" });
});

test("the backoff holds between restarts", () => {
  const restart = live();
  restart.networkChanged(0);
  assert.equal(restart.poll(0)?.kind, "offer");
  restart.peerStarted(0);
  restart.networkChanged(100);
  assert.equal(restart.poll(500), null); // 1 s after the first
  assert.deepEqual(restart.poll(1000), { kind: "offer", generation: 2, why: "network_changed" });
  restart.peerStarted(1000);
  restart.networkChanged(1100);
  assert.equal(restart.poll(2900), null); // 2 s after the second
  assert.equal(restart.poll(3000)?.kind, "offer");
});

test("no picture for the give-up time ends the session, whatever is still being tried", () => {
  const restart = new PeerRestart({ connectTimeoutMs: 100_000 });
  restart.relay(true);
  restart.peerStarted(0);
  restart.peerState(0, "connected");
  restart.peerState(1000, "disconnected");
  assert.equal(restart.poll(3000)?.kind, "offer");
  restart.peerStarted(3000);
  assert.equal(restart.poll(GIVE_UP_MS), null);
  assert.deepEqual(restart.poll(1000 + GIVE_UP_MS), { kind: "give_up", why: "no_connection" });
});

test("after the end, nothing", () => {
  const restart = live();
  restart.ended();
  restart.peerState(0, "failed");
  assert.equal(restart.poll(10_000), null);
});

test("a negative delay is refused", () => {
  assert.throws(() => new PeerRestart({ delaysMs: [1000, -1] }), RangeError);
  assert.throws(() => new PeerRestart({ delaysMs: [] }), RangeError);
});

test("connection type: only where the browser tells it", () => {
  assert.equal(connectionType(undefined), null);
  assert.equal(connectionType({ effectiveType: "4g", downlink: 10 }), null);
  assert.equal(connectionType({ type: "wifi" }), "wifi");
});
