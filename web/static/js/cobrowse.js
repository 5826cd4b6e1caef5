// @ts-check
/**
 * Co-browsing (R8): the customer shares this site's pages, not the screen. One tag on every
 * page of the site does it (docs/cobrowse.md):
 *
 *   <script type="module" src="https://relay.example.com/static/js/cobrowse.js"
 *           data-madoguchi-site-key="bank-web"></script>
 *
 * A launcher opens a panel: the customer types the operator's 6-digit code, sees the
 * operator's verified name and allows; the page is then recorded with rrweb, masked here,
 * before anything leaves (cobrowse-rules.js), compressed and sent on a WebRTC data channel
 * to the operator: the relay only carries the signaling. Pages outside the site's shareable
 * patterns are never sent, and recording stops entirely while a software keyboard is up.
 *
 * View only (R9): this script never clicks, types, scrolls, navigates or dispatches events
 * for the operator. The one thing it accepts from the operator is the pointer, drawn in its
 * own layer that is never recorded.
 * @module cobrowse
 */

import {
  COBROWSE_CHANNEL,
  FIXED_MASK,
  chunk,
  decodeCobrowseGuidance,
  hiddenSelectors,
  isShareable,
  parseBrand,
  parseRules,
  recordOptions,
  virtualKeyboardUp,
} from "./cobrowse-rules.js";
import { GUIDANCE_CHANNEL, PROTOCOL_VERSION, SignalingClient, agentSocketUrl, helloMessage, isOperatorCode } from "./protocol.js";

/** @typedef {import("./cobrowse-rules.js").SiteRules} SiteRules */
/** @typedef {import("./protocol.js").RelayMessage} RelayMessage */
/** @typedef {typeof import("@rrweb/record").record} RecordFn */
/** @typedef {"idle" | "code" | "connecting" | "request" | "sharing" | "ended"} View */
/** @typedef {"not_shared" | "keyboard" | null} PauseReason */
/** @typedef {{token: string, operator: string, ice: import("./protocol.js").IceServer[], outlines?: boolean}} Stored */

/** @returns {Stored | null} */
function loadStored() {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? "null");
    if (value && typeof value.token === "string" && typeof value.operator === "string" && Array.isArray(value.ice)) return value;
  } catch {
    // unreadable: start afresh
  }
  return null;
}

/** @param {Partial<Stored>} update */
function store(update) {
  const current = loadStored() ?? { token: "", operator: "", ice: [] };
  sessionStorage.setItem(STORE_KEY, JSON.stringify({ ...current, ...update }));
}

const CLIENT_VERSION = "cobrowse-1";
/**
 * The session carried from page to page of the site (sessionStorage: this tab, this origin):
 * the relay's resume secret, the operator's verified name and the ICE servers. A new page
 * resumes with it, without a new code or Allow; Stop, the operator's end or a refused
 * resume deletes it. Pages of other sites never see it.
 */
const STORE_KEY = "madoguchi-cobrowse";
const FLUSH_MS = 100;
/** At most this many outlines of hidden elements are drawn at once (those in view). */
const MAX_OUTLINES = 200;
/** A keyboard must stay down this long before recording resumes. */
const RESUME_AFTER_MS = 400;

const TEXT = {
  ja: {
    launcher: "画面をオペレーターと共有",
    title: "このサイトの画面をオペレーターに見せる",
    explain: "このサイトのページだけをオペレーターに見せます。デスクトップやほかのアプリは見えません。オペレーターは操作できません。",
    hidden: "オペレーターには見えないもの: 入力欄の内容（ID・パスワードなど）、個人情報のページ、ソフトウェアキーボード。",
    hidden_badge: "オペレーターには見えません",
    show_hidden: "見えない部分を表示",
    code_label: "オペレーターが伝える6桁の番号",
    connect: "接続",
    cancel: "やめる",
    bad_code: "6桁の数字を入力してください",
    show_number: "番号がない場合: 受付番号を表示する",
    number_label: "この受付番号をオペレーターに伝えてください",
    connecting: "接続しています…",
    request: (/** @type {string} */ who) => `${who} がこのサイトの画面を見ようとしています。`,
    allow: "許可する",
    deny: "許可しない",
    sharing: (/** @type {string} */ who) => `${who} と共有中`,
    paused_not_shared: "一時停止中: このページは共有されません",
    paused_keyboard: "一時停止中: キーボード入力中は共有しません",
    stop: "共有をやめる",
    ended: "共有を終了しました",
    problem: "接続できませんでした",
  },
  en: {
    launcher: "Share with the operator",
    title: "Show this site to the operator",
    explain: "Only this site's pages are shown, never your desktop or other apps. The operator cannot operate anything.",
    hidden: "Hidden from the operator: what you type (IDs, passwords...), private pages, the software keyboard.",
    hidden_badge: "Hidden from the operator",
    show_hidden: "Show what is hidden",
    code_label: "The 6-digit number the operator reads out",
    connect: "Connect",
    cancel: "Cancel",
    bad_code: "Enter the 6 digits",
    show_number: "No number? Show a number to read out",
    number_label: "Read this number to the operator",
    connecting: "Connecting…",
    request: (/** @type {string} */ who) => `${who} would like to see this site's pages.`,
    allow: "Allow",
    deny: "Do not allow",
    sharing: (/** @type {string} */ who) => `Sharing with ${who}`,
    paused_not_shared: "Paused: this page is not shared",
    paused_keyboard: "Paused while you type on a keyboard",
    stop: "Stop sharing",
    ended: "Sharing ended",
    problem: "Could not connect",
  },
};

const tag = /** @type {HTMLScriptElement | null} */ (document.querySelector("script[data-madoguchi-site-key]"));
const relayOrigin = new URL(import.meta.url).origin;
const lang = (tag?.dataset.madoguchiLang ?? document.documentElement.lang ?? "ja").startsWith("en") ? "en" : "ja";
const tr = TEXT[lang];

/**
 * @param {string} selector
 * @returns {boolean}
 */
function validSelector(selector) {
  try {
    document.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    return false;
  }
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} name
 * @param {Record<string, string>} [attrs]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(name, attrs = {}, children = []) {
  const el = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/**
 * The panel, the pointer layer and the outlines of what is hidden from the operator: in a
 * shadow root of a host that rrweb never records.
 */
class Panel {
  /** @param {import("./cobrowse-rules.js").Brand} brand the launcher's colour and the company's name */
  constructor(brand) {
    this.brand = brand;
    this.host = h("div", { "data-madoguchi-ui": "", id: "madoguchi-cobrowse" });
    // CSSOM, not a style attribute: allowed under the site's strict CSP (no 'unsafe-inline').
    if (brand.colour) this.host.style.setProperty("--brand", brand.colour);
    this.root = this.host.attachShadow({ mode: "open" });
    // Unseen until its stylesheet is in: an unstyled launcher would flash at the page's
    // foot, with touch targets too small for a thumb.
    this.host.style.setProperty("visibility", "hidden");
    const sheet = h("link", { rel: "stylesheet", href: `${relayOrigin}/static/css/cobrowse.css` });
    const reveal = () => this.host.style.removeProperty("visibility");
    sheet.addEventListener("load", reveal);
    sheet.addEventListener("error", reveal);
    this.root.append(sheet);
    this.outlines = h("div", { class: "outlines", id: "cb-outlines", hidden: "" });
    this.pointer = h("div", { class: "pointer", hidden: "" });
    this.launcher = h("button", { type: "button", class: "launcher", id: "cb-launcher" }, [tr.launcher]);
    this.box = h("section", { class: "panel", id: "cb-panel", hidden: "", role: "dialog", "aria-labelledby": "cb-title" });
    this.root.append(this.outlines, this.pointer, this.launcher, this.box);
    document.body.append(this.host);
  }

  /** @param {(Node | string)[]} children */
  show(children) {
    this.box.replaceChildren(...children);
    this.box.hidden = false;
    this.launcher.hidden = true;
  }

  hide() {
    this.box.hidden = true;
    this.launcher.hidden = false;
  }
}

/**
 * rrweb's recorder with this site's rules; compressed batches go to `send`.
 * Started only on a shareable page with no keyboard up; stopped, nothing more is emitted.
 */
class Recorder {
  /**
   * @param {RecordFn} record
   * @param {SiteRules} rules
   * @param {(bytes: Uint8Array) => void} send
   */
  constructor(record, rules, send) {
    this.record = record;
    this.rules = rules;
    this.send = send;
    /** While false, whatever rrweb still emits (a throttled mouse position...) is dropped. */
    this.active = false;
    /** @type {(() => void) | null} */
    this.stopFn = null;
    /** @type {unknown[]} */
    this.queue = [];
    this.timer = 0;
    this.eventsSent = 0;
    this.bytesSent = 0;
    /** @type {Promise<void>} */
    this.sending = Promise.resolve();
  }

  get running() {
    return this.active;
  }

  /** Start recording: a full snapshot, then changes. */
  start() {
    if (this.active) return;
    this.active = true;
    const stop = this.record({
      ...recordOptions(this.rules, validSelector),
      emit: (event) => {
        if (!this.active) return;
        this.queue.push(withoutQuery(event));
        if (this.timer === 0) this.timer = window.setTimeout(() => this.flush(), FLUSH_MS);
      },
    });
    this.stopFn = stop ?? null;
  }

  /** Stop recording now; what was queued before is sent, nothing after. */
  stop() {
    if (!this.active) return;
    this.active = false;
    const stop = this.stopFn;
    this.stopFn = null;
    stop?.();
    this.flush();
  }

  flush() {
    window.clearTimeout(this.timer);
    this.timer = 0;
    if (this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    this.eventsSent += events.length;
    const json = new TextEncoder().encode(JSON.stringify({ t: Date.now(), events }));
    const gzip = new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"));
    // Batches leave in order: each waits for the one before it.
    this.sending = this.sending.then(async () => {
      const bytes = new Uint8Array(await new Response(gzip).arrayBuffer());
      this.bytesSent += bytes.length;
      this.send(bytes);
    });
  }
}

/**
 * The page's address as the operator gets it (rrweb's Meta event): origin and path only, as
 * the shareable patterns see it. A query or fragment may carry personal data.
 * @template {{type: number, data?: unknown}} E
 * @param {E} event
 * @returns {E}
 */
function withoutQuery(event) {
  const data = /** @type {{href?: unknown}} */ (event.data);
  if (event.type !== 4 || typeof data?.href !== "string") return event;
  const url = new URL(data.href);
  return { ...event, data: { ...data, href: `${url.origin}${url.pathname}` } };
}

/**
 * @param {HTMLIFrameElement} frame
 * @returns {Document | null} its document when it is of this origin (rrweb records it), else null
 */
function frameDocument(frame) {
  try {
    return frame.contentDocument;
  } catch {
    return null;
  }
}

const WINDOW_CLIP = () => ({ left: 0, top: 0, right: innerWidth, bottom: innerHeight });

/**
 * Where hidden elements may be: the page, its open shadow roots and its same-origin frames
 * (recorded by rrweb, masked alike), each with its offset from the window and the part of the
 * window it shows. The panel's own shadow root is not searched.
 * @returns {{root: Document | ShadowRoot, dx: number, dy: number, clip: {left: number, top: number, right: number, bottom: number}}[]}
 */
function searchRoots() {
  /** @type {ReturnType<typeof searchRoots>} */
  const roots = [{ root: document, dx: 0, dy: 0, clip: WINDOW_CLIP() }];
  for (let i = 0; i < roots.length && roots.length < 50; i++) {
    const { root, dx, dy, clip } = roots[i];
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot && !el.hasAttribute("data-madoguchi-ui")) roots.push({ root: el.shadowRoot, dx, dy, clip });
      if (el.tagName !== "IFRAME") continue;
      const doc = frameDocument(/** @type {HTMLIFrameElement} */ (el));
      if (doc === null) continue;
      const r = el.getBoundingClientRect();
      const left = dx + r.left + el.clientLeft;
      const top = dy + r.top + el.clientTop;
      const inner = { left: Math.max(clip.left, left), top: Math.max(clip.top, top), right: Math.min(clip.right, left + el.clientWidth), bottom: Math.min(clip.bottom, top + el.clientHeight) };
      roots.push({ root: doc, dx: left, dy: top, clip: inner });
    }
  }
  return roots;
}

/** One co-browse session on this page. */
class Session {
  /**
   * @param {Panel} panel
   * @param {SiteRules} rules
   */
  constructor(panel, rules) {
    this.panel = panel;
    this.rules = rules;
    /** @type {SignalingClient | null} */
    this.signaling = null;
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {RTCDataChannel | null} */
    this.content = null;
    /** @type {Recorder | null} */
    this.recorder = null;
    this.operatorName = "";
    /** Whether the customer reads a 4-digit number to the operator (rather than typing theirs). */
    this.readsNumber = false;
    /** @type {import("./protocol.js").IceServer[]} */
    this.resumeIce = [];
    /** @type {PauseReason} */
    this.paused = null;
    this.observer = new MutationObserver(() => {
      this.checkPause();
      this.scheduleOutlines();
    });
    /** Whether the customer sees outlines on what is hidden from the operator (the indicator's toggle). */
    this.showHidden = true;
    this.outlineFrame = 0;
    /** The tallest visible height at this width: a phone's keyboard shrinks it (cobrowse-rules.js). */
    this.tallest = { width: 0, height: 0 };
    this.resumeTimer = 0;
    /** The page is being left: a closing socket is the navigation, not the end. */
    this.leaving = false;
    addEventListener("pagehide", () => {
      this.leaving = true;
    });
  }

  /**
   * A new page of the site, same session: `resume`, then a new peer (the old page's is gone).
   * @param {Stored} stored
   */
  async resume(stored) {
    this.operatorName = stored.operator;
    this.resumeIce = stored.ice;
    this.showHidden = stored.outlines !== false; // the customer's choice, from page to page
    this.panel.show([h("p", { id: "cb-status" }, [tr.connecting])]);
    if (!(await this.openSignaling())) return;
    this.signaling?.send({ type: "resume", protocol_version: PROTOCOL_VERSION, resume_token: stored.token });
  }

  /** @returns {Promise<boolean>} */
  async openSignaling() {
    this.signaling = new SignalingClient(agentSocketUrl(`${relayOrigin}/`), {
      message: (m) => void this.onRelay(m),
      closed: () => {
        if (!this.leaving) this.end(false);
      },
    });
    try {
      await this.signaling.open();
      return true;
    } catch {
      sessionStorage.removeItem(STORE_KEY);
      this.panel.show([h("p", { id: "cb-status", role: "alert" }, [tr.problem])]);
      return false;
    }
  }

  askCode() {
    const input = h("input", { id: "cb-code", inputmode: "numeric", autocomplete: "off", maxlength: "6", "aria-describedby": "cb-code-error" });
    const error = h("p", { id: "cb-code-error", class: "error", role: "alert" });
    const connect = h("button", { type: "button", id: "cb-connect", class: "primary" }, [tr.connect]);
    const cancel = h("button", { type: "button", id: "cb-cancel" }, [tr.cancel]);
    connect.addEventListener("click", () => {
      const code = input.value.replace(/\s/g, "");
      if (!isOperatorCode(code)) {
        error.textContent = tr.bad_code;
        return;
      }
      void this.connect(code);
    });
    cancel.addEventListener("click", () => this.panel.hide());
    // The other direction (the agent's and the browser's): the customer reads a 4-digit
    // number to the operator, who types it in the console. Same Allow, same session after.
    const showNumber = h("button", { type: "button", id: "cb-show-number" }, [tr.show_number]);
    showNumber.addEventListener("click", () => void this.connect(null));
    this.panel.show([
      ...(this.panel.brand.company_name ? [h("p", { class: "brand-name", id: "cb-brand" }, [this.panel.brand.company_name])] : []),
      h("h2", { id: "cb-title" }, [tr.title]),
      h("p", {}, [tr.explain]),
      h("p", { class: "hidden-list", id: "cb-hidden" }, [tr.hidden]),
      h("label", { for: "cb-code" }, [tr.code_label]),
      input,
      error,
      h("div", { class: "buttons" }, [cancel, connect]),
      h("div", { class: "buttons" }, [showNumber]),
    ]);
    input.focus();
  }

  /** @param {string | null} code the operator's 6-digit code, or null to get a 4-digit number */
  async connect(code) {
    this.readsNumber = code === null;
    this.panel.show([h("p", { id: "cb-status" }, [tr.connecting])]);
    if (!(await this.openSignaling())) return;
    this.signaling?.send(helloMessage({ client: "cobrowse", scope: "normal", clientVersion: CLIENT_VERSION, locale: lang }, code));
  }

  /** @param {RelayMessage} m */
  async onRelay(m) {
    switch (m.type) {
      case "registered": {
        store({ token: m.resume_token });
        if (!this.readsNumber) return; // joined with the operator's code: nothing to show
        const cancel = h("button", { type: "button", id: "cb-cancel" }, [tr.cancel]);
        cancel.addEventListener("click", () => this.end(true));
        this.panel.show([
          h("p", { id: "cb-number-label" }, [tr.number_label]),
          h("p", { id: "cb-number", class: "number", "aria-live": "polite" }, [m.code]),
          h("p", { class: "hidden-list" }, [tr.hidden]),
          h("div", { class: "buttons" }, [cancel]),
        ]);
        return;
      }
      case "resumed":
        await this.startPeer(this.resumeIce);
        return;
      case "operator_request": {
        const org = m.operator.organisation;
        this.operatorName = org ? (lang === "ja" ? `${m.operator.display_name}（${org}）` : `${m.operator.display_name} (${org})`) : m.operator.display_name;
        const allow = h("button", { type: "button", id: "cb-allow", class: "primary" }, [tr.allow]);
        const deny = h("button", { type: "button", id: "cb-deny" }, [tr.deny]);
        allow.addEventListener("click", () => {
          this.signaling?.send({ type: "decision", allowed: true });
          this.panel.show([h("p", { id: "cb-status" }, [tr.connecting])]);
        });
        deny.addEventListener("click", () => {
          this.signaling?.send({ type: "decision", allowed: false });
          this.end(false);
        });
        this.panel.show([h("p", { id: "cb-request" }, [tr.request(this.operatorName)]), h("p", { class: "hidden-list" }, [tr.hidden]), h("div", { class: "buttons" }, [deny, allow])]);
        return;
      }
      case "session_start":
        store({ operator: this.operatorName, ice: m.ice_servers });
        await this.startPeer(m.ice_servers);
        return;
      case "answer":
        await this.pc?.setRemoteDescription({ type: "answer", sdp: m.sdp });
        return;
      case "ice":
        if (this.pc === null) return;
        if (m.candidate === "") await this.pc.addIceCandidate(null);
        else await this.pc.addIceCandidate({ candidate: `candidate:${m.candidate.replace(/^candidate:/, "")}`, sdpMid: m.sdp_mid, sdpMLineIndex: m.sdp_mline_index });
        return;
      case "ended":
      case "error":
        if (m.type === "error" && !m.fatal) return;
        this.end(false);
        return;
      default:
        return;
    }
  }

  /** @param {import("./protocol.js").IceServer[]} iceServers */
  async startPeer(iceServers) {
    const pc = new RTCPeerConnection({
      iceServers: iceServers.map((s) => ({ urls: s.urls, ...(s.username ? { username: s.username } : {}), ...(s.credential ? { credential: s.credential } : {}) })),
    });
    this.pc = pc;
    const guidance = pc.createDataChannel(GUIDANCE_CHANNEL, { ordered: true });
    guidance.addEventListener("message", (event) => this.onGuidance(event.data));
    const content = pc.createDataChannel(COBROWSE_CHANNEL, { ordered: true });
    content.binaryType = "arraybuffer";
    this.content = content;
    content.addEventListener("open", () => void this.startSharing());
    pc.addEventListener("icecandidate", (event) => {
      const c = event.candidate;
      this.signaling?.send(
        c === null || c.candidate === ""
          ? { type: "ice", candidate: "", sdp_mid: null, sdp_mline_index: null }
          : { type: "ice", candidate: c.candidate.replace(/^candidate:/, ""), sdp_mid: c.sdpMid, sdp_mline_index: c.sdpMLineIndex },
      );
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" || pc.connectionState === "closed") this.end(true);
    });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.signaling?.send({ type: "offer", sdp: pc.localDescription?.sdp ?? offer.sdp ?? "" });
  }

  async startSharing() {
    const module = /** @type {{record: RecordFn}} */ (await import(`${relayOrigin}/vendor/rrweb-record.js`));
    this.recorder = new Recorder(module.record, this.rules, (bytes) => this.sendContent(bytes));
    this.observer.observe(document.documentElement, { attributes: true, childList: true, subtree: true, attributeFilter: ["hidden", "class", "style"] });
    addEventListener("focusin", () => this.checkPause());
    addEventListener("focusout", () => this.checkPause());
    window.visualViewport?.addEventListener("resize", () => this.checkPause());
    addEventListener("resize", () => this.checkPause());
    const redraw = () => this.scheduleOutlines();
    addEventListener("scroll", redraw, { capture: true, passive: true });
    addEventListener("resize", redraw, { passive: true });
    this.checkPause(true);
  }

  /** @param {Uint8Array} bytes */
  sendContent(bytes) {
    const channel = this.content;
    if (channel === null || channel.readyState !== "open") return;
    for (const message of chunk(bytes)) channel.send(message);
  }

  /** @returns {PauseReason} why nothing may be recorded now, or null */
  pauseReason() {
    if (!isShareable(this.rules, location.href)) return "not_shared";
    for (const selector of this.rules.keyboard_selectors) {
      if (!validSelector(selector)) continue;
      for (const el of document.querySelectorAll(selector)) {
        if (el instanceof HTMLElement && el.checkVisibility()) return "keyboard";
      }
    }
    const active = document.activeElement;
    const editableFocused = active instanceof HTMLElement && (active.isContentEditable || active.matches("input, textarea, select"));
    const view = window.visualViewport;
    if (view === null) return null;
    const visibleHeight = view.height * view.scale;
    if (this.tallest.width !== window.innerWidth) this.tallest = { width: window.innerWidth, height: 0 }; // turned
    this.tallest.height = Math.max(this.tallest.height, visibleHeight);
    if (virtualKeyboardUp({ coarsePointer: matchMedia("(pointer: coarse)").matches, editableFocused, visibleHeight, tallestHeight: this.tallest.height })) {
      return "keyboard";
    }
    return null;
  }

  /**
   * Stop or resume recording as the page requires; tell the operator and the customer.
   * @param {boolean} [force] tell them even if nothing changed (a new page)
   * @param {boolean} [settled] the keyboard has stayed down for {@link RESUME_AFTER_MS}
   */
  checkPause(force = false, settled = false) {
    const recorder = this.recorder;
    if (recorder === null) return;
    const reason = this.pauseReason();
    if (reason === null && this.paused === "keyboard" && !settled) {
      // Focus moving from one field to the next passes through none, and a keyboard takes a
      // moment to go down: resume only once it has stayed down, never in between.
      if (this.resumeTimer === 0) {
        this.resumeTimer = window.setTimeout(() => {
          this.resumeTimer = 0;
          this.checkPause(false, true);
        }, RESUME_AFTER_MS);
      }
      return;
    }
    if (!force && reason === this.paused && recorder.running === (reason === null)) return;
    this.paused = reason;
    if (reason !== null) {
      recorder.stop();
      this.hidePointer();
    }
    // After the batches recorded before it: the operator reads the channel in order.
    const state = JSON.stringify({ type: "cobrowse_state", paused: reason !== null, reason });
    recorder.sending = recorder.sending.then(() => {
      if (this.content?.readyState === "open") this.content.send(state);
    });
    if (reason === null) {
      recorder.start(); // a fresh full snapshot follows every resume
    }
    this.showSharing();
    this.scheduleOutlines();
  }

  showSharing() {
    const stop = h("button", { type: "button", id: "cb-stop", class: "primary" }, [tr.stop]);
    stop.addEventListener("click", () => this.end(true));
    const toggle = h("button", { type: "button", id: "cb-show-hidden", "aria-pressed": String(this.showHidden) }, [tr.show_hidden]);
    toggle.addEventListener("click", () => {
      this.showHidden = !this.showHidden;
      store({ outlines: this.showHidden });
      toggle.setAttribute("aria-pressed", String(this.showHidden));
      this.scheduleOutlines();
    });
    const status = this.paused === "not_shared" ? tr.paused_not_shared : this.paused === "keyboard" ? tr.paused_keyboard : tr.sharing(this.operatorName);
    const buttons = this.paused === null ? [toggle, stop] : [stop];
    this.panel.show([
      h("p", { id: "cb-sharing", class: this.paused === null ? "sharing" : "paused", role: "status" }, [status]),
      h("p", { class: "hidden-list" }, [tr.hidden]),
      h("div", { class: "buttons" }, buttons),
    ]);
    this.panel.box.classList.add("bar");
  }

  scheduleOutlines() {
    if (this.outlineFrame !== 0) return;
    this.outlineFrame = requestAnimationFrame(() => {
      this.outlineFrame = 0;
      this.drawOutlines();
    });
  }

  /**
   * Outline, on the customer's page, what the operator does not see (as it is now in view):
   * masked fields and text, blocked elements. Drawn in the panel's shadow root, which is
   * never recorded, so the outlines never reach the operator; only while recording runs.
   */
  drawOutlines() {
    const layer = this.panel.outlines;
    const running = this.recorder !== null && this.recorder.running;
    if (!running || !this.showHidden) {
      layer.hidden = true;
      layer.replaceChildren();
      return;
    }
    const all = hiddenSelectors(this.rules).filter(validSelector).join(", ");
    /** @type {HTMLElement[]} */
    const boxes = [];
    /** @param {DOMRect} r @param {{left: number, top: number, right: number, bottom: number}} clip */
    const outline = (r, clip) => {
      if (r.width < 1 || r.height < 1 || r.bottom < clip.top || r.top > clip.bottom || r.right < clip.left || r.left > clip.right) return;
      const box = h("div", { class: "outline" }, [h("span", { class: "badge" }, [tr.hidden_badge])]);
      box.style.transform = `translate(${r.left}px, ${r.top}px)`;
      box.style.width = `${r.width}px`;
      box.style.height = `${r.height}px`;
      box.classList.toggle("short", r.height < 36);
      box.classList.toggle("top", r.top < 20);
      boxes.push(box);
    };
    for (const { root, dx, dy, clip } of searchRoots()) {
      for (const el of all ? root.querySelectorAll(all) : []) {
        if (boxes.length >= MAX_OUTLINES) break;
        if (el.closest("[data-madoguchi-ui]") || el.parentElement?.closest(all)) continue; // the outermost only
        if ("checkVisibility" in el && !el.checkVisibility()) continue;
        const r = el.getBoundingClientRect();
        outline(new DOMRect(r.left + dx, r.top + dy, r.width, r.height), clip);
      }
    }
    for (const frame of document.querySelectorAll("iframe")) {
      if (frameDocument(frame) === null) outline(frame.getBoundingClientRect(), WINDOW_CLIP()); // another origin's: not recorded
    }
    layer.replaceChildren(...boxes);
    layer.hidden = false;
  }

  /** @param {unknown} data */
  onGuidance(data) {
    const pointer = decodeCobrowseGuidance(data);
    if (pointer === null || this.recorder === null || !this.recorder.running) return; // nothing else is ever acted on
    if (pointer.action === "hide") {
      this.hidePointer();
      return;
    }
    const node = /** @type {{mirror: {getNode(id: number): Node | null}}} */ (/** @type {unknown} */ (this.recorder.record)).mirror.getNode(pointer.node);
    if (!(node instanceof Element) || !node.isConnected) return;
    const box = node.getBoundingClientRect();
    const layer = this.panel.pointer;
    layer.hidden = false;
    layer.style.transform = `translate(${box.left + box.width * pointer.fx}px, ${box.top + box.height * pointer.fy}px)`;
    layer.classList.toggle("click", pointer.action === "click");
  }

  hidePointer() {
    this.panel.pointer.hidden = true;
  }

  /** @param {boolean} sayBye */
  end(sayBye) {
    sessionStorage.removeItem(STORE_KEY);
    window.clearTimeout(this.resumeTimer);
    this.observer.disconnect();
    this.recorder?.stop();
    this.recorder = null;
    if (sayBye) this.signaling?.send({ type: "bye", reason: "normal" });
    this.content?.close();
    this.pc?.close();
    this.pc = null;
    this.signaling?.close();
    this.signaling = null;
    this.hidePointer();
    this.drawOutlines();
    this.panel.box.classList.remove("bar");
    this.panel.show([h("p", { id: "cb-ended", role: "status" }, [tr.ended])]);
    window.setTimeout(() => this.panel.hide(), 3000);
  }
}

async function main() {
  if (tag === null) return;
  const key = tag.dataset.madoguchiSiteKey ?? "";
  const response = await fetch(`${relayOrigin}/api/cobrowse/config?site_key=${encodeURIComponent(key)}`, { credentials: "omit" });
  if (response.status === 403) {
    console.warn(`co-browsing is off: the relay does not allow pages of ${location.origin} (add it to [cobrowse] allowed_origins)`);
    return;
  }
  if (!response.ok) {
    console.warn(`co-browsing is off: the relay does not know site key ${JSON.stringify(key)}`);
    return;
  }
  const config = await response.json();
  const rules = parseRules(config);
  const panel = new Panel(parseBrand(config?.brand));
  panel.launcher.addEventListener("click", () => new Session(panel, rules).askCode());
  const stored = loadStored();
  if (stored !== null && stored.token) void new Session(panel, rules).resume(stored);
  // What the page tells the customer is hidden: shown by the launcher's panel (FIXED_MASK is its symbol).
  panel.launcher.title = `${tr.hidden} ${FIXED_MASK}`;
  // The site's own button may open the panel instead: window.MadoguchiCobrowse.open().
  // Opening the panel is all it can do: the code, Allow and Stop stay the customer's.
  Object.defineProperty(window, "MadoguchiCobrowse", {
    value: Object.freeze({ open: () => panel.launcher.click() }),
  });
  if (tag.dataset.madoguchiLauncher === "none") panel.launcher.classList.add("site-button");
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void main());
else void main();
