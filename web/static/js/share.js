// @ts-check
/**
 * Normal mode (通常版, R7): the customer shares the screen from this page.
 *
 * Consent, then the browser's picker (getDisplayMedia, whole screen preferred), then
 * `register` (or `join` with an operator's 6-digit code) on `/ws/agent` with client
 * "browser" and sysinfo scope "normal"; the 4-digit code shown large; the operator's
 * verified name with Allow / Do not allow and the countdown; only after `session_start`
 * (which follows the customer's Allow) is the screen track given to a peer connection, so
 * no frame leaves before Allow. Stopping here or in the browser's own bar ends the session.
 *
 * When the customer's network changes (Wi-Fi to tethering) the peer connection cannot
 * come back (the console's aiortc has no ICE restart): restart.js decides when to make a
 * new one with the same display track, offered with the next `restart` generation
 * (docs/protocol.md step 11). The capture goes on, so no picker is shown again.
 * @module share
 */

import { applyTranslations, chooseLang, duration, t } from "./i18n.js";
import {
  PROTOCOL_VERSION,
  ProtocolError,
  SignalingClient,
  agentSocketUrl,
  decodeOperatorGuidance,
  encode,
  helloMessage,
  isOperatorCode,
  offerMessage,
} from "./protocol.js";
import { PeerRestart, connectionType } from "./restart.js";
import { DISPLAY_MEDIA_OPTIONS, ScreenSender } from "./rtc.js";
import { applySite, fetchSite } from "./site.js";
import { normalSysinfo, sharingSupport } from "./sysinfo.js";

/** @typedef {import("./protocol.js").RelayMessage} RelayMessage */
/** @typedef {import("./protocol.js").OperatorIdentity} OperatorIdentity */
/** @typedef {import("./protocol.js").SysInfoReport} SysInfoReport */
/** @typedef {import("./protocol.js").CustomerMessage} CustomerMessage */
/** @typedef {"consent" | "unsupported" | "connecting" | "code" | "request" | "sharing" | "problem" | "ended"} View */

const CLIENT_VERSION = "web-1";
/** How long a dropped socket is retried: the relay's default resume grace (docs/protocol.md §8). */
const RESUME_FOR_MS = 30_000;
/** How often the restart decision is polled while sharing. */
const RESTART_POLL_MS = 500;
const lang = chooseLang(location.search, navigator.languages);
const joinCode = new URLSearchParams(location.search).get("code");

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function $(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing`);
  return /** @type {T} */ (el);
}

/** @param {View} view */
function show(view) {
  for (const section of document.querySelectorAll("section.view")) {
    /** @type {HTMLElement} */ (section).hidden = section.id !== `view-${view}`;
  }
  document.body.dataset.view = view;
  const heading = document.querySelector(`#view-${view} h2`);
  if (heading instanceof HTMLElement) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

/** @param {string} text */
function announce(text) {
  $("status").textContent = text;
}

/**
 * @param {string} key
 * @param {string} text
 */
function problem(key, text) {
  $("problem-heading").textContent = t(lang, key);
  $("problem-text").textContent = text;
  show("problem");
}

/** The whole customer side of one session; a new one for each try. */
class NormalSession {
  constructor() {
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {SignalingClient | null} */
    this.signaling = null;
    /** @type {ScreenSender | null} */
    this.sender = null;
    /** @type {OperatorIdentity | null} */
    this.operator = null;
    this.allowed = false;
    this.ended = false;
    this.paused = false;
    /** @type {number | null} */
    this.sharingSince = null;
    /** @type {number | null} */
    this.timer = null;
    /** @type {SysInfoReport} */
    this.sysinfo = normalSysinfo(null, navigator.userAgent);
    /** @type {string | null} secret: never shown or logged */
    this.resumeToken = null;
    /** @type {number | null} when the socket dropped, while trying to resume */
    this.droppedAt = null;
    /** @type {import("./protocol.js").IceServer[]} from session_start, for every peer of the session */
    this.iceServers = [];
    /** The current peer's `restart` generation (docs/protocol.md step 11). */
    this.generation = 0;
    this.restart = new PeerRestart();
    /** @type {number | null} */
    this.restartTimer = null;
    /** @type {CustomerMessage[]} the current peer's offer and candidates not yet through the relay */
    this.outbox = [];
    /** @type {(() => void) | null} removes the network-change listeners */
    this.unwatchNetwork = null;
    /** A fresh relay socket is being opened (renewSocket). */
    this.renewing = false;
  }

  /** The customer agreed: the picker first, then the relay (a cancelled picker registers nothing). */
  async start() {
    const problemLine = $("consent-problem");
    problemLine.hidden = true;
    try {
      this.stream = await navigator.mediaDevices.getDisplayMedia(DISPLAY_MEDIA_OPTIONS);
    } catch (error) {
      console.warn("getDisplayMedia refused:", error);
      problemLine.textContent = t(lang, "picker_cancelled");
      problemLine.hidden = false;
      return;
    }
    const track = this.stream.getVideoTracks()[0];
    if (track === undefined) return;
    // The browser's own "Stop sharing" ends the session as our Stop does.
    track.addEventListener("ended", () => this.stop());
    this.sysinfo = await readSysinfo();
    await this.connect();
  }

  async connect() {
    show("connecting");
    if (!(await this.openSocket())) {
      problem("unreachable_heading", t(lang, "unreachable_text"));
      return;
    }
    const code = joinCode !== null && isOperatorCode(joinCode) ? joinCode : null;
    this.signaling?.send(
      helloMessage({ client: "browser", scope: "normal", clientVersion: CLIENT_VERSION, locale: lang }, code),
    );
  }

  /** @returns {Promise<boolean>} whether a socket to the relay is open */
  async openSocket() {
    const client = new SignalingClient(agentSocketUrl(location.href), {
      // A socket replaced by a fresh one (a peer restart) is history, whatever it still says.
      message: (m) => {
        if (this.signaling === client) this.received(m);
      },
      closed: (code) => {
        if (this.signaling === client) void this.socketClosed(code);
      },
      invalid: (error) => this.broken(error),
    });
    this.signaling = client;
    try {
      await client.open();
      return true;
    } catch {
      return false;
    }
  }

  /** @param {RelayMessage} message */
  received(message) {
    switch (message.type) {
      case "registered":
        this.resumeToken = message.resume_token;
        this.resumed();
        if (joinCode === null) this.showCode(message.code, message.expires_in_s);
        return;
      case "operator_request":
        this.ask(message.operator, message.timeout_s);
        return;
      case "session_start":
        if (!this.allowed) {
          // Never share on the relay's word alone: only after the customer's own Allow.
          this.broken(new ProtocolError("session_start before Allow"));
          return;
        }
        void this.share(message.ice_servers);
        return;
      case "answer":
        // Only the current peer's: an answer to an offer overtaken by a newer peer is history.
        if (message.restart !== this.generation) return;
        void this.sender?.answer(message.sdp).catch((error) => this.broken(error));
        return;
      case "ice":
        void this.sender
          ?.addCandidate(message.candidate, message.sdp_mid, message.sdp_mline_index)
          .catch((error) => console.warn("remote candidate ignored:", error));
        return;
      case "ended":
        this.finish(endReasonText(message.reason, message.by));
        return;
      case "error":
        this.refused(message.code, message.retry_after_s);
        return;
      case "resumed":
        this.resumed();
        return;
      case "peer_status":
        // The operator's own relay link blinked; the media goes on and the relay ends the
        // session if they do not come back. Nothing for the customer to do.
        return;
    }
  }

  /**
   * @param {string} code
   * @param {number} expiresInS
   */
  showCode(code, expiresInS) {
    $("code").textContent = code;
    const until = Date.now() + expiresInS * 1000;
    const tick = () => {
      $("code-valid").textContent = t(lang, "number_valid", { time: duration(lang, (until - Date.now()) / 1000) });
    };
    tick();
    this.every(tick);
    show("code");
    announce(`${t(lang, "your_number")} ${code.split("").join(" ")}`);
  }

  /**
   * @param {OperatorIdentity} operator
   * @param {number} timeoutS
   */
  ask(operator, timeoutS) {
    this.operator = operator;
    $("request-who").textContent = t(lang, "request_who", {
      name: operator.display_name,
      organisation: operator.organisation,
    });
    renderSysinfo($("sysinfo"), this.sysinfo);
    const until = Date.now() + timeoutS * 1000;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      $("request-countdown").textContent = t(lang, "request_countdown", { seconds: left });
    };
    tick();
    this.every(tick);
    show("request");
  }

  /** @param {boolean} allowed */
  decide(allowed) {
    if (this.operator === null || this.allowed) return;
    this.allowed = allowed;
    this.signaling?.send({ type: "decision", allowed });
    if (allowed) {
      announce(t(lang, "starting"));
      show("connecting");
    }
  }

  /** @param {import("./protocol.js").IceServer[]} iceServers */
  async share(iceServers) {
    this.iceServers = iceServers;
    this.restart.relay(true);
    this.restartTimer = window.setInterval(() => this.pollRestart(), RESTART_POLL_MS);
    this.unwatchNetwork = watchNetwork(() => {
      this.restart.networkChanged(Date.now());
      this.pollRestart();
    });
    await this.newPeer(0);
  }

  /**
   * A peer connection for the display track, offered with `restart` = `generation`.
   * The capture is the same track: the browser's picker is not asked again.
   * @param {number} generation
   */
  async newPeer(generation) {
    const track = this.stream?.getVideoTracks()[0];
    if (track === undefined || track.readyState === "ended") {
      this.stop();
      return;
    }
    this.generation = generation;
    this.outbox = [];
    let offered = false;
    /** @type {CustomerMessage[]} candidates found before the offer went out: they follow it */
    const early = [];
    const sender = new ScreenSender(track, this.iceServers, {
      candidate: (c) => {
        if (this.sender !== sender) return; // an old peer's: the console has a new one
        /** @type {CustomerMessage} */
        const ice = {
          type: "ice",
          candidate: c === null ? "" : c.candidate,
          sdp_mid: c?.sdpMid ?? null,
          sdp_mline_index: c?.sdpMLineIndex ?? null,
        };
        if (offered) this.post(ice);
        else early.push(ice);
      },
      state: (state) => {
        if (this.sender !== sender) return; // a replaced peer's last states are history
        console.warn(`peer ${generation}: ${state}`);
        this.restart.peerState(Date.now(), state);
        if (state === "connected") {
          if (this.droppedAt === null) $("reconnecting").hidden = true;
          this.sharing();
        }
        this.pollRestart();
      },
      guidance: (text) => {
        if (this.sender === sender) this.guidance(text);
      },
      channelOpen: () => {
        const settings = track.getSettings();
        if (generation === 0) sender.sendGuidance(encode(this.sysinfo));
        sender.sendGuidance(
          JSON.stringify({
            type: "monitors",
            monitors: [{ index: 0, x: 0, y: 0, width: settings.width ?? 1, height: settings.height ?? 1, primary: true }],
            active: 0,
          }),
        );
        if (this.paused) sender.sendGuidance(encode({ type: "sharing_state", paused: true }));
      },
    });
    this.sender = sender;
    this.restart.peerStarted(Date.now());
    try {
      if (this.paused) await sender.pause(true);
      const sdp = await sender.offer();
      if (this.sender !== sender) return;
      this.post(offerMessage(sdp, generation));
      offered = true;
      for (const ice of early.splice(0)) this.post(ice);
    } catch (error) {
      this.broken(error);
    }
  }

  /**
   * Send through the relay, in order; what the socket cannot take now goes after `resumed`.
   * @param {CustomerMessage} message
   */
  post(message) {
    this.outbox.push(message);
    this.flush();
  }

  flush() {
    while (this.outbox.length > 0 && this.signaling?.send(this.outbox[0])) this.outbox.shift();
  }

  /** Ask restart.js what to do now, and do it. */
  pollRestart() {
    if (this.ended || this.sender === null) return;
    const action = this.restart.poll(Date.now());
    if (action === null) return;
    if (action.kind === "give_up") {
      console.warn(`no peer connection could be brought back (${action.why})`);
      this.finish(t(lang, "end_lost"), true);
      return;
    }
    console.warn(`new peer connection ${action.generation} (${action.why})`);
    const notice = t(lang, "reconnecting");
    $("reconnecting").textContent = notice;
    $("reconnecting").hidden = false;
    announce(notice);
    this.sender?.close(); // first: its candidates are history; the track goes on
    this.sender = null;
    // A socket bound to an address that went is dead without knowing it (no close for many
    // minutes): a fresh one, resumed, carries the offer. The relay drops the old one.
    this.renewSocket();
    void this.newPeer(action.generation);
  }

  /** A fresh relay socket for the session; the offer waits in the outbox until it is resumed. */
  renewSocket() {
    const old = this.signaling;
    const token = this.resumeToken;
    if (token === null || this.renewing) return; // one fresh socket at a time
    this.renewing = true;
    this.restart.relay(false);
    void this.openSocket().then((open) => {
      this.renewing = false;
      if (this.ended) return;
      if (!open) {
        void this.socketClosed(1006); // retried as any dropped socket: the offer goes after the resume
        return;
      }
      old?.close();
      this.signaling?.send({ type: "resume", protocol_version: PROTOCOL_VERSION, resume_token: token });
    });
  }

  sharing() {
    if (this.sharingSince !== null) return;
    this.sharingSince = Date.now();
    document.title = `● ${t(lang, "title")}`;
    announce("");
    const tick = () => {
      $("time-shared").textContent = t(lang, "time_shared", {
        time: duration(lang, (Date.now() - (this.sharingSince ?? Date.now())) / 1000),
      });
    };
    tick();
    this.every(tick);
    this.renderIndicator();
    show("sharing");
  }

  renderIndicator() {
    const name = this.operator?.display_name ?? "";
    $("sharing-heading").textContent = t(lang, this.paused ? "sharing_paused" : "sharing_with", { name });
    $("indicator").classList.toggle("paused", this.paused);
    $("paused-note").hidden = !this.paused;
    $("pause").textContent = t(lang, this.paused ? "resume" : "pause");
  }

  async togglePause() {
    if (this.sender === null) return;
    this.paused = !this.paused;
    await this.sender.pause(this.paused);
    this.sender.sendGuidance(encode({ type: "sharing_state", paused: this.paused }));
    this.renderIndicator();
  }

  /** @param {string} text */
  guidance(text) {
    let message;
    try {
      message = decodeOperatorGuidance(text);
    } catch (error) {
      console.warn("guidance ignored:", error);
      return;
    }
    if (message.type === "hang_up") {
      // The operator ended it end to end (their bye also goes through the relay).
      this.finish(endReasonText(message.reason, "operator"));
    } else if (message.type === "relay_away") {
      // The relay cut this page's socket while the media flows: it may be bound to an
      // address that went (the page sees no event for that). A fresh one, resumed.
      if (this.droppedAt === null) this.renewSocket();
    } else if (message.type === "ping") {
      this.sender?.sendGuidance(encode({ type: "pong", seq: message.seq }));
    } else if (message.type === "pointer") {
      // A page cannot draw on the rest of the screen: the pointer is shown in this page's
      // miniature of the screen only (docs/browser.md).
      $("pointer-figure").hidden = message.action === "hide";
      const pointer = $("pointer");
      pointer.style.left = `${message.x * 100}%`;
      pointer.style.top = `${message.y * 100}%`;
      pointer.classList.toggle("click", message.action === "click");
      pointer.dataset.moves = String(Number(pointer.dataset.moves ?? "0") + 1); // read by the demo
    }
  }

  /** The customer pressed Stop, or the browser's own stop, or the tab is closing. */
  stop() {
    if (this.ended) return;
    this.signaling?.send({ type: "bye", reason: "normal" });
    this.sender?.hangUp("normal");
    this.sender = null; // closed by hangUp, once the message is out
    this.finish(t(lang, "end_you"));
  }

  /**
   * @param {string} reason
   * @param {boolean} [sayBye] tell the relay too (the media failed, the relay did not end it)
   */
  finish(reason, sayBye = false) {
    if (this.ended) return;
    this.ended = true;
    if (sayBye) this.signaling?.send({ type: "bye", reason: "peer_gone" });
    this.release();
    const shared = this.sharingSince !== null;
    $("ended-heading").textContent = t(lang, shared ? "ended_heading" : "not_shared_heading");
    $("ended-reason").textContent = reason;
    $("ended-note").hidden = !shared;
    document.title = t(lang, "title");
    show("ended");
  }

  /**
   * @param {string} code
   * @param {number | null} retryAfterS
   */
  refused(code, retryAfterS) {
    if (code === "unknown_resume_token") {
      this.finish(t(lang, "end_lost"));
      return;
    }
    if (code === "unknown_code" || code === "expired_code" || code === "code_already_used") {
      if (joinCode !== null) {
        this.release();
        problem("bad_code_heading", t(lang, "bad_code_text"));
        return;
      }
      if (code === "expired_code") {
        this.release();
        problem("expired_heading", t(lang, "error_text"));
        return;
      }
    }
    if (code === "busy" || code === "rate_limited" || code === "unavailable") {
      this.release();
      const minutes = Math.max(1, Math.ceil((retryAfterS ?? 60) / 60));
      problem("busy_heading", t(lang, minutes === 1 ? "busy_text_minute" : "busy_text", { minutes }));
      return;
    }
    console.warn("refused by the relay:", code);
    this.release();
    problem("error_heading", t(lang, "error_text"));
  }

  /** @param {unknown} error */
  broken(error) {
    console.warn("session broken:", error);
    if (this.ended) return;
    this.signaling?.send({ type: "bye", reason: "normal" });
    this.release();
    problem("error_heading", t(lang, "error_text"));
  }

  /**
   * The socket closed. A close frame from the relay (1000 after `ended`, 1008...) leaves
   * nothing to resume; a dropped connection (1006) does: the code or the session is kept
   * for the relay's resume grace, and sharing itself goes on peer to peer meanwhile.
   * @param {number} code
   */
  async socketClosed(code) {
    if (this.ended || document.body.dataset.view === "problem") return;
    this.restart.relay(false); // a new peer's offer waits for the resume
    if (code === 1006 && this.resumeToken !== null) {
      this.droppedAt ??= Date.now();
      const notice = t(lang, this.operator === null ? "reconnecting_number" : "reconnecting");
      $("reconnecting").textContent = notice;
      $("reconnecting").hidden = false;
      announce(notice);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (this.ended) return;
      if (Date.now() - this.droppedAt < RESUME_FOR_MS && (await this.openSocket())) {
        this.signaling?.send({ type: "resume", protocol_version: PROTOCOL_VERSION, resume_token: this.resumeToken });
        return;
      }
      if (Date.now() - this.droppedAt < RESUME_FOR_MS) {
        void this.socketClosed(1006);
        return;
      }
    }
    if (this.sharingSince !== null || this.allowed) {
      this.finish(t(lang, "end_lost"));
      return;
    }
    this.release();
    problem("unreachable_heading", t(lang, "unreachable_text"));
  }

  /** Back on the relay after a drop (or first registered). */
  resumed() {
    this.droppedAt = null;
    if (this.sender === null || this.restart.connected || this.generation === 0) $("reconnecting").hidden = true;
    this.restart.relay(true);
    this.flush(); // an offer or candidates the dead socket could not take
    this.pollRestart();
  }

  /** @param {() => void} tick */
  every(tick) {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = window.setInterval(tick, 1000);
  }

  /** Stop the capture, the peer, the socket and the timers: nothing of this session goes on. */
  release() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.restartTimer !== null) clearInterval(this.restartTimer);
    this.restartTimer = null;
    this.unwatchNetwork?.();
    this.unwatchNetwork = null;
    this.restart.ended();
    this.sender?.close();
    this.sender = null;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.signaling?.close();
    this.signaling = null;
  }
}

/**
 * Call `changed` when the browser says the network changed: `online`, or another
 * `navigator.connection.type` where the browser tells it (Chrome on Android and ChromeOS).
 * @param {() => void} changed
 * @returns {() => void} removes the listeners
 */
function watchNetwork(changed) {
  const connection = /** @type {any} */ (navigator).connection;
  let type = connectionType(connection);
  const onChange = () => {
    const now = connectionType(connection);
    if (now === type) return; // a new bandwidth or round-trip estimate, not a new network
    type = now;
    changed();
  };
  window.addEventListener("online", changed);
  if (connection && typeof connection.addEventListener === "function") connection.addEventListener("change", onChange);
  return () => {
    window.removeEventListener("online", changed);
    if (connection && typeof connection.removeEventListener === "function") connection.removeEventListener("change", onChange);
  };
}

/** @returns {Promise<SysInfoReport>} */
async function readSysinfo() {
  const uaData = /** @type {any} */ (navigator).userAgentData;
  let hints = null;
  if (uaData && typeof uaData.getHighEntropyValues === "function") {
    try {
      hints = await uaData.getHighEntropyValues(["platform", "platformVersion", "fullVersionList"]);
    } catch {
      hints = null;
    }
  }
  return normalSysinfo(hints, navigator.userAgent);
}

/**
 * @param {HTMLElement} list
 * @param {SysInfoReport} report
 */
function renderSysinfo(list, report) {
  /** @type {[string, string][]} */
  const items = [
    ["item_os", "os"],
    ["item_os_version", "os_version"],
    ["item_browser", "default_browser"],
    ["item_browser_version", "default_browser_version"],
  ];
  list.replaceChildren();
  for (const [label, key] of items) {
    const dt = document.createElement("dt");
    dt.textContent = t(lang, label);
    const dd = document.createElement("dd");
    dd.textContent = report.data[key] ?? t(lang, "not_available");
    list.append(dt, dd);
  }
}

/**
 * @param {string} reason
 * @param {string} by
 * @returns {string}
 */
function endReasonText(reason, by) {
  if (reason === "denied") return t(lang, "end_denied");
  if (reason === "allow_timeout") return t(lang, "end_timeout");
  if (reason === "peer_gone") return t(lang, "end_lost");
  if (by === "operator") return t(lang, "end_operator");
  if (by === "agent") return t(lang, "end_you");
  return t(lang, "end_relay");
}

async function loadTerms() {
  try {
    const response = await fetch(`/api/terms?lang=${lang}`);
    const body = await response.json();
    if (typeof body.text === "string") $("terms").textContent = body.text;
  } catch {
    $("terms").textContent = t(lang, "unreachable_text");
  }
}

function main() {
  applyTranslations(document, lang);
  const other = lang === "ja" ? "en" : "ja";
  const params = new URLSearchParams(location.search);
  params.set("lang", other);
  $("lang-switch").setAttribute("href", `?${params}`);
  /** @type {HTMLAnchorElement} */ ($("start-again")).href = `/share?lang=${lang}`;
  void fetchSite().then((site) => site !== null && applySite(site, lang));
  const userAgentData = /** @type {any} */ (navigator).userAgentData;
  const support = sharingSupport({
    hasDisplayMedia: typeof navigator.mediaDevices?.getDisplayMedia === "function",
    mobileHint: typeof userAgentData?.mobile === "boolean" ? userAgentData.mobile : null,
    userAgent: navigator.userAgent,
    maxTouchPoints: navigator.maxTouchPoints,
  });
  if (support !== "ok") {
    $("unsupported-text").textContent = t(lang, support === "mobile" ? "unsupported_mobile" : "unsupported_browser");
    show("unsupported");
    return;
  }
  void loadTerms();
  /** @type {NormalSession} */
  let session = new NormalSession();
  $("agree").addEventListener("click", () => void session.start());
  $("allow").addEventListener("click", () => session.decide(true));
  $("deny").addEventListener("click", () => session.decide(false));
  $("pause").addEventListener("click", () => void session.togglePause());
  $("stop").addEventListener("click", () => session.stop());
  $("code-cancel").addEventListener("click", () => session.stop());
  $("retry").addEventListener("click", () => {
    session.release();
    session = new NormalSession();
    show("consent");
  });
  // A closed tab says goodbye, so the operator is told at once rather than after the resume grace.
  window.addEventListener("pagehide", () => session.stop());
  show("consent");
}

main();
