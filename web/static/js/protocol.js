// @ts-check
/**
 * The Madoguchi wire protocol for browsers: the customer's side of docs/protocol.md.
 *
 * One protocol, two implementations: Python's `protocol/` and this module. It knows the
 * messages a customer sends and receives on `/ws/agent` and on the `guidance` data
 * channel, checks what arrives (a relay or peer that sends something else is a bug we
 * report, not guess around), and wraps the websocket in {@link SignalingClient}. No DOM
 * here: the normal mode (share.js) and co-browsing use it alike, and Node's test runner
 * checks it (test/protocol.test.js).
 * @module protocol
 */

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const GUIDANCE_CHANNEL = "guidance";
export const AGENT_CODE_DIGITS = 4;
export const OPERATOR_CODE_DIGITS = 6;
/** The highest `restart` generation of an offer or answer (docs/protocol.md, `offer`). */
export const MAX_RESTART = 1_000_000;

/** @typedef {"agent" | "browser" | "cobrowse"} ClientKind */
/** @typedef {"detailed" | "normal"} Scope */
/** @typedef {{display_name: string, organisation: string}} OperatorIdentity */
/** @typedef {{urls: string[], username?: string | null, credential?: string | null}} IceServer */

/**
 * @typedef {{type: "register", protocol_version: number, client: ClientKind, sysinfo_scope: Scope,
 *   client_version: string, consent_accepted: boolean, locale: string}} Register
 * @typedef {{type: "join", protocol_version: number, code: string, client: ClientKind, sysinfo_scope: Scope,
 *   client_version: string, consent_accepted: boolean, locale: string}} Join
 * @typedef {{type: "resume", protocol_version: number, resume_token: string}} Resume
 * @typedef {{type: "decision", allowed: boolean}} Decision
 * @typedef {{type: "offer", sdp: string, restart?: number}} Offer `restart`: left out at 0 (step 11)
 * @typedef {{type: "answer", sdp: string, restart: number}} Answer `restart`: 0 when absent
 * @typedef {{type: "ice", candidate: string, sdp_mid: string | null, sdp_mline_index: number | null}} Ice
 * @typedef {{type: "bye", reason: string}} Bye
 * @typedef {{type: "registered", code: string, expires_in_s: number, resume_token: string}} Registered
 * @typedef {{type: "resumed", session_id: string}} Resumed
 * @typedef {{type: "operator_request", operator: OperatorIdentity, timeout_s: number}} OperatorRequest
 * @typedef {{type: "session_start", session_id: string, ice_servers: IceServer[]}} SessionStart
 * @typedef {{type: "ended", reason: string, by: "agent" | "operator" | "relay"}} Ended
 * @typedef {{type: "peer_status", connected: boolean}} PeerStatus
 * @typedef {{type: "error", code: string, message: string, retry_after_s: number | null, fatal: boolean}} ErrorMessage
 */
/** @typedef {Register | Join | Resume | Decision | Offer | Ice | Bye} CustomerMessage what the customer's side sends */
/** @typedef {Registered | Resumed | OperatorRequest | SessionStart | Answer | Ice | Ended | PeerStatus | ErrorMessage} RelayMessage */

/**
 * @typedef {{type: "pointer", action: "move" | "click" | "hide", x: number, y: number, monitor: number}} Pointer
 * @typedef {{type: "key_guide", keys: string[][], caption: string}} KeyGuide
 * @typedef {{type: "key_guide_clear"}} KeyGuideClear
 * @typedef {{type: "ping", seq: number}} Ping
 * @typedef {{type: "hang_up", reason: string}} HangUp
 * @typedef {{type: "relay_away"}} RelayAway the relay says this page's socket is away (docs/protocol.md §5)
 * @typedef {{type: "pong", seq: number}} Pong
 * @typedef {{type: "sharing_state", paused: boolean}} SharingState
 * @typedef {{type: "sysinfo", scope: Scope, data: Record<string, string | null>, unavailable: Record<string, string>}} SysInfoReport
 */
/** @typedef {Pointer | KeyGuide | KeyGuideClear | Ping | HangUp | RelayAway} OperatorGuidance guidance the operator sends */

/** A message that breaks docs/protocol.md. */
export class ProtocolError extends Error {
  /** @param {string} detail */
  constructor(detail) {
    super(detail);
    this.name = "ProtocolError";
  }
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * @param {Record<string, unknown>} obj
 * @param {string} name
 * @param {number} min
 * @param {number} max
 * @returns {string}
 */
function str(obj, name, min, max) {
  const value = obj[name];
  if (typeof value !== "string" || [...value].length < min || [...value].length > max) {
    throw new ProtocolError(`${obj.type}.${name}: a string of ${min}..${max} characters`);
  }
  return value;
}

/**
 * @param {Record<string, unknown>} obj
 * @param {string} name
 * @param {number} lo
 * @param {number} hi
 * @param {number} [fallback] used when the field is absent
 * @returns {number}
 */
function num(obj, name, lo, hi, fallback) {
  const value = obj[name] === undefined ? fallback : obj[name];
  if (typeof value !== "number" || !Number.isFinite(value) || value < lo || value > hi) {
    throw new ProtocolError(`${obj.type}.${name}: a number within ${lo}..${hi}`);
  }
  return value;
}

/**
 * @param {Record<string, unknown>} obj
 * @param {string} name
 * @param {number} lo
 * @param {number} hi
 * @param {number} [fallback] used when the field is absent
 * @returns {number}
 */
function int(obj, name, lo, hi, fallback) {
  const value = num(obj, name, lo, hi, fallback);
  if (!Number.isInteger(value)) throw new ProtocolError(`${obj.type}.${name}: an integer`);
  return value;
}

/**
 * @param {Record<string, unknown>} obj
 * @param {string} name
 * @param {boolean} [fallback]
 * @returns {boolean}
 */
function bool(obj, name, fallback) {
  const value = obj[name] === undefined ? fallback : obj[name];
  if (typeof value !== "boolean") throw new ProtocolError(`${obj.type}.${name}: a boolean`);
  return value;
}

/**
 * @param {string} text
 * @returns {Record<string, unknown>}
 */
function parse(text) {
  if (text.length > MAX_MESSAGE_BYTES) throw new ProtocolError("message over 64 KiB");
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError("not JSON");
  }
  if (!isObject(value) || typeof value.type !== "string") throw new ProtocolError("not a message");
  return value;
}

/**
 * @param {Record<string, unknown>} m
 * @returns {Ice}
 */
function ice(m) {
  const mid = m.sdp_mid ?? null;
  const index = m.sdp_mline_index ?? null;
  if (mid !== null && typeof mid !== "string") throw new ProtocolError("ice.sdp_mid: a string or null");
  if (index !== null && (typeof index !== "number" || !Number.isInteger(index))) {
    throw new ProtocolError("ice.sdp_mline_index: an integer or null");
  }
  return { type: "ice", candidate: str(m, "candidate", 0, 1024), sdp_mid: mid, sdp_mline_index: index };
}

/**
 * Decode what the relay sends on `/ws/agent`. Unknown fields are dropped (§1).
 * @param {string} text
 * @returns {RelayMessage}
 */
export function decodeRelayMessage(text) {
  const m = parse(text);
  switch (m.type) {
    case "registered":
      return {
        type: "registered",
        code: str(m, "code", AGENT_CODE_DIGITS, OPERATOR_CODE_DIGITS),
        expires_in_s: num(m, "expires_in_s", 0, 86400),
        resume_token: str(m, "resume_token", 1, 256),
      };
    case "resumed":
      return { type: "resumed", session_id: str(m, "session_id", 1, 64) };
    case "operator_request": {
      const op = m.operator;
      if (!isObject(op)) throw new ProtocolError("operator_request.operator: an object");
      return {
        type: "operator_request",
        operator: { display_name: str(op, "display_name", 1, 128), organisation: str(op, "organisation", 1, 128) },
        timeout_s: num(m, "timeout_s", 0, 3600),
      };
    }
    case "session_start": {
      const list = m.ice_servers ?? [];
      if (!Array.isArray(list) || list.length > 16) throw new ProtocolError("session_start.ice_servers: ≤ 16 servers");
      /** @type {IceServer[]} */
      const servers = list.map((s) => {
        if (!isObject(s) || !Array.isArray(s.urls) || !s.urls.every((u) => typeof u === "string")) {
          throw new ProtocolError("session_start.ice_servers[]: {urls: [...]}");
        }
        /** @type {IceServer} */
        const server = { urls: /** @type {string[]} */ (s.urls) };
        if (typeof s.username === "string") server.username = s.username;
        if (typeof s.credential === "string") server.credential = s.credential;
        return server;
      });
      return { type: "session_start", session_id: str(m, "session_id", 1, 64), ice_servers: servers };
    }
    case "answer":
      return { type: "answer", sdp: str(m, "sdp", 1, 48 * 1024), restart: int(m, "restart", 0, MAX_RESTART, 0) };
    case "ice":
      return ice(m);
    case "ended": {
      const by = m.by;
      if (by !== "agent" && by !== "operator" && by !== "relay") throw new ProtocolError("ended.by");
      return { type: "ended", reason: str(m, "reason", 1, 64), by };
    }
    case "peer_status":
      return { type: "peer_status", connected: bool(m, "connected") };
    case "error": {
      const retry = m.retry_after_s ?? null;
      if (retry !== null && (typeof retry !== "number" || !Number.isFinite(retry))) {
        throw new ProtocolError("error.retry_after_s: a number or null");
      }
      return {
        type: "error",
        code: str(m, "code", 1, 64),
        message: str(m, "message", 0, 512),
        retry_after_s: retry,
        fatal: bool(m, "fatal", false),
      };
    }
    default:
      throw new ProtocolError(`unexpected message type ${JSON.stringify(m.type)}`);
  }
}

/**
 * Decode a guidance message the operator sent on the data channel; anything the customer's
 * side does not accept (R9: there is no message to click or type) is a ProtocolError.
 * @param {string} text
 * @returns {OperatorGuidance}
 */
export function decodeOperatorGuidance(text) {
  const m = parse(text);
  switch (m.type) {
    case "pointer": {
      const action = m.action ?? "move";
      if (action !== "move" && action !== "click" && action !== "hide") throw new ProtocolError("pointer.action");
      return {
        type: "pointer",
        action,
        x: num(m, "x", 0, 1, 0),
        y: num(m, "y", 0, 1, 0),
        monitor: num(m, "monitor", 0, 64, 0),
      };
    }
    case "key_guide": {
      const keys = m.keys;
      if (
        !Array.isArray(keys) ||
        keys.length < 1 ||
        keys.length > 4 ||
        !keys.every((c) => Array.isArray(c) && c.length >= 1 && c.length <= 4 && c.every((k) => typeof k === "string"))
      ) {
        throw new ProtocolError("key_guide.keys: 1..4 combinations of 1..4 key names");
      }
      const caption = m.caption === undefined ? "" : str(m, "caption", 0, 200);
      return { type: "key_guide", keys: /** @type {string[][]} */ (keys), caption };
    }
    case "key_guide_clear":
      return { type: "key_guide_clear" };
    case "ping":
      return { type: "ping", seq: num(m, "seq", 0, 2 ** 53) };
    case "hang_up":
      return { type: "hang_up", reason: m.reason === undefined ? "normal" : str(m, "reason", 1, 64) };
    case "relay_away":
      return { type: "relay_away" };
    default:
      throw new ProtocolError(`${JSON.stringify(m.type)} is not accepted from the operator`);
  }
}

/**
 * The compact JSON of a message (one text frame, §1).
 * @param {CustomerMessage | Pong | SharingState | SysInfoReport} message
 * @returns {string}
 */
export function encode(message) {
  const text = JSON.stringify(message);
  if (new TextEncoder().encode(text).length > MAX_MESSAGE_BYTES) throw new ProtocolError("message over 64 KiB");
  return text;
}

/**
 * An `offer` of the session's peer connection number `restart` (0: the first; step 11).
 * The field is left out at 0, so a first offer reads exactly as before restarts existed.
 * @param {string} sdp
 * @param {number} restart
 * @returns {Offer}
 */
export function offerMessage(sdp, restart) {
  if (!Number.isInteger(restart) || restart < 0 || restart > MAX_RESTART) {
    throw new ProtocolError(`offer.restart: an integer within 0..${MAX_RESTART}`);
  }
  return restart === 0 ? { type: "offer", sdp } : { type: "offer", sdp, restart };
}

/**
 * @typedef {{client: ClientKind, scope: Scope, clientVersion: string, locale: string}} Hello
 */

/**
 * The first message of a customer's socket: `register`, or `join` with an operator's 6-digit code.
 * @param {Hello} hello
 * @param {string | null} code a 6-digit code the customer typed, or null for a new 4-digit one
 * @returns {Register | Join}
 */
export function helloMessage(hello, code) {
  const common = {
    protocol_version: PROTOCOL_VERSION,
    client: hello.client,
    sysinfo_scope: hello.scope,
    client_version: hello.clientVersion,
    consent_accepted: true,
    locale: hello.locale,
  };
  if (code === null) return { type: "register", ...common };
  if (!isOperatorCode(code)) throw new ProtocolError("join.code: 6 digits");
  return { type: "join", code, ...common };
}

/**
 * @param {string} text
 * @returns {boolean} whether the text is an operator's 6-digit code (ASCII digits only)
 */
export function isOperatorCode(text) {
  return /^[0-9]{6}$/.test(text);
}

/**
 * The websocket URL of `/ws/agent` on the relay that served `pageUrl`.
 * @param {string} pageUrl
 * @returns {string}
 */
export function agentSocketUrl(pageUrl) {
  const url = new URL("/ws/agent", pageUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

/**
 * @typedef {object} SignalingHandlers
 * @property {(message: RelayMessage) => void} message every decoded message from the relay
 * @property {(code: number, clean: boolean) => void} closed the open socket closed (1006: dropped, no close frame)
 * @property {(error: ProtocolError) => void} [invalid] the relay sent something this client cannot decode
 */

/**
 * One customer socket on `/ws/agent`. `open()` resolves when the socket is open and
 * rejects when it cannot be opened (relay down: then no handler is called); afterwards
 * everything arrives through the handlers, in order.
 */
export class SignalingClient {
  /**
   * @param {string} url `ws(s)://host/ws/agent`
   * @param {SignalingHandlers} handlers
   * @param {{WebSocket?: typeof WebSocket}} [options] another WebSocket class (Node's tests)
   */
  constructor(url, handlers, options = {}) {
    this.url = url;
    this.handlers = handlers;
    this.WebSocketClass = options.WebSocket ?? WebSocket;
    /** @type {WebSocket | null} */
    this.socket = null;
  }

  /** @returns {Promise<void>} */
  open() {
    return new Promise((resolve, reject) => {
      const socket = new this.WebSocketClass(this.url);
      this.socket = socket;
      let opened = false;
      socket.addEventListener("open", () => {
        opened = true;
        resolve();
      });
      socket.addEventListener("message", (event) => {
        if (typeof event.data !== "string") {
          this.handlers.invalid?.(new ProtocolError("binary frame"));
          return;
        }
        let message;
        try {
          message = decodeRelayMessage(event.data);
        } catch (error) {
          if (error instanceof ProtocolError) {
            this.handlers.invalid?.(error);
            return;
          }
          throw error;
        }
        this.handlers.message(message);
      });
      socket.addEventListener("close", (event) => {
        if (opened) this.handlers.closed(event.code, event.wasClean);
        else reject(new Error(`cannot reach the relay (${event.code})`));
      });
    });
  }

  /**
   * @param {CustomerMessage} message
   * @returns {boolean} false when the socket is not open (the message is dropped)
   */
  send(message) {
    const socket = this.socket;
    if (socket === null || socket.readyState !== socket.OPEN) return false;
    socket.send(encode(message));
    return true;
  }

  /** @param {number} [code] */
  close(code = 1000) {
    this.socket?.close(code);
  }
}
