// @ts-check
/**
 * When the browser's page offers a new peer connection in the same session (no I/O).
 *
 * The page's counterpart of client_core/peer_restart.py (docs/protocol.md step 11). The
 * console's aiortc cannot restart ICE, so when the customer's network changes (Wi-Fi to
 * tethering) the page makes a *new* RTCPeerConnection with the same display track (the
 * capture goes on: no new picker) and offers it with the next `restart` generation.
 *
 * {@link PeerRestart} decides when. share.js feeds it the clock and what it sees (the
 * peer's connection state, the relay socket up or down, the browser's network-change
 * events) and calls {@link PeerRestart#poll}, which says what to do:
 *
 * - `{kind: "offer", generation, why}` when the peer has been `disconnected`/`failed` for
 *   `graceMs` (Chrome says `disconnected` a few seconds after packets stop), or the
 *   browser reported a network change (`online`, a new `navigator.connection.type`: a
 *   page cannot see which addresses went, so it cannot tell a lost address from a new
 *   one), or a restarted peer did not connect within `connectTimeoutMs` - but only once
 *   a peer had connected (a first connection that fails ends the session, as before),
 *   only while the relay socket is up (the offer must travel; after an outage it goes
 *   as soon as the socket is back), and no sooner than the backoff allows;
 * - `{kind: "give_up", why}` after `maxAttempts` restarts with no connected peer in
 *   between, or when no peer has been connected for `giveUpMs` (the session's own
 *   limit, `connection_lost_s`): the page ends the session with its "connection lost".
 *
 * Node's test runner checks it (test/restart.test.js).
 * @module restart
 */

/** After a restart, the earliest next one, in ms; the last repeats (as the agent's). */
export const RESTART_DELAYS_MS = Object.freeze([1000, 2000, 4000, 8000]);
/** No picture for this long ends the session (docs/protocol.md step 10, `connection_lost_s`). */
export const GIVE_UP_MS = 60_000;

/**
 * @typedef {{kind: "offer", generation: number, why: "network_changed" | "peer_failed" | "no_connection"}} OfferNewPeer
 * @typedef {{kind: "give_up", why: string}} GiveUp
 * @typedef {OfferNewPeer | GiveUp} RestartAction
 */

/**
 * @typedef {object} RestartOptions
 * @property {number} [graceMs] how long `disconnected`/`failed` lasts before a restart
 * @property {number} [connectTimeoutMs] how long a restarted peer gets to connect
 * @property {readonly number[]} [delaysMs] backoff between restarts
 * @property {number} [maxAttempts] restarts in a row without a connected peer
 * @property {number} [giveUpMs] no connected peer for this long ends the session
 */

/** One session's peer connections on the customer's page, from the first offer to the end. */
export class PeerRestart {
  /** @param {RestartOptions} [options] */
  constructor(options = {}) {
    const delays = options.delaysMs ?? RESTART_DELAYS_MS;
    if (delays.length === 0 || Math.min(...delays) < 0) throw new RangeError("delaysMs: at least one, none negative");
    this.graceMs = options.graceMs ?? 1500;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.delaysMs = delays;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.giveUpMs = options.giveUpMs ?? GIVE_UP_MS;
    /** The `restart` generation of the current peer (0: the session's first). */
    this.generation = 0;
    /** Restarts since a peer was last connected. */
    this.attempts = 0;
    /** @type {number | null} */
    this.startedAt = null;
    this.connected = false;
    this.everConnected = false;
    /** @type {number | null} */
    this.badSince = null;
    this.networkChangedFlag = false;
    this.relayUp = false;
    /** @type {number | null} */
    this.troubleSince = null;
    this.notBefore = 0;
    this.over = false;
  }

  // --- inputs ---------------------------------------------------------------------------

  /**
   * The current peer was created (its offer is on the way).
   * @param {number} now ms
   */
  peerStarted(now) {
    this.startedAt = now;
    this.connected = false;
    this.badSince = null;
  }

  /**
   * The current peer's connection state changed (`closed` is the page's own doing).
   * @param {number} now ms
   * @param {RTCPeerConnectionState} state
   */
  peerState(now, state) {
    if (state === "connected") {
      this.connected = this.everConnected = true;
      this.badSince = this.troubleSince = null;
      this.attempts = 0;
    } else if (state === "disconnected" || state === "failed") {
      this.connected = false;
      this.badSince ??= now;
      this.troubleSince ??= now;
    }
  }

  /** @param {boolean} up the relay socket is open (registered or resumed), or not */
  relay(up) {
    this.relayUp = up;
  }

  /**
   * The browser says the network changed (`online`, another connection type): the
   * addresses the peer's candidates were gathered on may be gone.
   * @param {number} now ms
   */
  networkChanged(now) {
    if (!this.everConnected || this.networkChangedFlag) return; // before the first picture: as before
    this.networkChangedFlag = true;
    this.troubleSince ??= now;
  }

  /** The session is over: nothing more to do. */
  ended() {
    this.over = true;
  }

  // --- decision -------------------------------------------------------------------------

  /**
   * What to do now (call after every input and regularly, e.g. every half second).
   * @param {number} now ms
   * @returns {RestartAction | null}
   */
  poll(now) {
    if (this.over) return null;
    const why = this.why(now);
    if (this.troubleSince !== null && !this.connected && now - this.troubleSince >= this.giveUpMs) {
      this.over = true; // no picture for the session's give-up time, whatever is still tried
      return { kind: "give_up", why: why ?? "no_connection" };
    }
    if (why === null) return null;
    if (!this.everConnected || this.attempts >= this.maxAttempts) {
      this.over = true; // never had a picture (nothing to restart), or tried enough
      return { kind: "give_up", why };
    }
    if (!this.relayUp || now < this.notBefore) return null;
    this.troubleSince ??= now;
    this.generation += 1;
    this.attempts += 1;
    this.notBefore = now + this.delaysMs[Math.min(this.attempts - 1, this.delaysMs.length - 1)];
    this.startedAt = null; // until peerStarted
    this.networkChangedFlag = false;
    this.badSince = null;
    this.connected = false;
    return { kind: "offer", generation: this.generation, why };
  }

  /**
   * @param {number} now
   * @returns {OfferNewPeer["why"] | null}
   */
  why(now) {
    if (this.networkChangedFlag) return "network_changed";
    if (this.badSince !== null && now - this.badSince >= this.graceMs) return "peer_failed";
    const started = this.startedAt;
    if (this.generation > 0 && !this.connected && started !== null && now - started >= this.connectTimeoutMs) {
      return "no_connection";
    }
    return null;
  }
}

/**
 * The part of `navigator.connection` that says the network changed: its `type` (wifi,
 * cellular, ...), where the browser tells it. Its `change` event also fires for new
 * bandwidth or round-trip estimates, which are no reason for a new peer.
 * @param {unknown} connection `navigator.connection`, if any
 * @returns {string | null}
 */
export function connectionType(connection) {
  if (typeof connection !== "object" || connection === null) return null;
  const type = /** @type {{type?: unknown}} */ (connection).type;
  return typeof type === "string" ? type : null;
}
