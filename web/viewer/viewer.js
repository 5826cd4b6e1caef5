// @ts-check
/**
 * The operator's co-browse view (docs/cobrowse.md): rrweb's Replayer in live mode, fed by
 * the console over a loopback websocket, in an iframe sandboxed to `allow-same-origin`
 * (no scripts) under a CSP of `script-src 'self'`: no customer script ever runs here.
 * Blocked areas are grey boxes of their size; masked values show the fixed mask. A click
 * on the page sends the pointer, anchored to the element under it plus a point in its box.
 * @module viewer
 */

/**
 * @typedef {object} ReplayerLike the part of rrweb's Replayer used here
 * @property {HTMLIFrameElement} iframe
 * @property {() => {getId(n: Node): number, getMeta(n: Node): {attributes?: Record<string, unknown>} | null}} getMirror
 * @property {(t?: number) => void} startLive
 * @property {(e: unknown) => void} addEvent
 * @property {(name: string, handler: (payload: unknown) => void) => void} on
 */

const TEXT = {
  ja: {
    waiting: "お客さまの画面を待っています…",
    sharing: "お客さまのページを表示中（操作はできません）",
    not_shared: "このページは共有されていません",
    keyboard: "一時停止中: お客さまが入力中です",
    ended: "共有は終了しました",
    hint: "クリックした場所をお客さまに示します",
  },
  en: {
    waiting: "Waiting for the customer's page…",
    sharing: "The customer's page (view only)",
    not_shared: "This page is not shared",
    keyboard: "Paused: the customer is typing",
    ended: "Sharing has ended",
    hint: "Click to point at a place on the customer's page",
  },
};
const lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "ja";
const tr = TEXT[lang];
document.documentElement.lang = lang;

const BLOCKED_STYLE = ".madoguchi-blocked { background: repeating-linear-gradient(45deg, #9aa5b1 0 8px, #b8c2cc 8px 16px) !important; }";

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing`);
  return el;
}

const status = $("status");
const overlay = $("overlay");
const player = $("player");
const stage = $("stage");
$("hint").textContent = tr.hint;

/** @param {string | null} text */
function showOverlay(text) {
  overlay.hidden = text === null;
  overlay.textContent = text ?? "";
}

async function main() {
  const module = /** @type {{Replayer: new (events: unknown[], config: object) => ReplayerLike}} */ (
    await import(new URL("rrweb-replay.js", import.meta.url).href)
  );
  const socket = new WebSocket(new URL("feed", location.href.replace(/^http/, "ws")).href);
  /** @type {ReplayerLike | null} */
  let replayer = null;
  /** Applied batches: when each was given to the replayer (the tests' render clock). */
  const applied = /** @type {number[]} */ ([]);
  Object.defineProperty(window, "__madoguchiApplied", { value: applied });
  status.textContent = tr.waiting;
  showOverlay(tr.waiting);

  /** Grey boxes for what the customer's browser never recorded (rr_width/rr_height). */
  function markBlocked() {
    const doc = replayer?.iframe.contentDocument;
    if (!replayer || !doc) return;
    const mirror = replayer.getMirror();
    for (const el of doc.querySelectorAll("*")) {
      const attrs = mirror.getMeta(el)?.attributes;
      if (attrs && "rr_width" in attrs) el.classList.add("madoguchi-blocked");
    }
  }

  /** @param {{width: number, height: number}} size */
  function fit(size) {
    const scale = Math.min(1, stage.clientWidth / size.width, stage.clientHeight / size.height);
    player.style.transform = `scale(${scale})`;
  }

  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data));
    if (message.kind === "events") {
      /** @type {{type: number, timestamp: number, data: any}[]} */
      const events = message.events;
      if (replayer === null) {
        const first = events[0];
        if (first === undefined) return;
        replayer = new module.Replayer([], {
          root: player,
          liveMode: true,
          mouseTail: false,
          showWarning: false,
          insertStyleRules: [BLOCKED_STYLE],
        });
        replayer.on("resize", (size) => fit(/** @type {{width: number, height: number}} */ (size)));
        // The replayer applies events on its own clock: mark grey boxes once they are in the page.
        replayer.on("fullsnapshot-rebuilded", markBlocked);
        replayer.on("event-cast", markBlocked);
        replayer.startLive(Date.now() - 1);
      }
      // Stamped with this machine's clock on arrival: rrweb plays events on its own timer from
      // their timestamps, and the customer's clock is not ours (no skew, no added lag).
      const now = Date.now();
      for (const e of events) replayer.addEvent({ ...e, timestamp: now });
      applied.push(Date.now());
      status.textContent = tr.sharing;
      showOverlay(null);
    } else if (message.kind === "state") {
      const reason = message.state.reason;
      showOverlay(reason === "not_shared" ? tr.not_shared : reason === "keyboard" ? tr.keyboard : null);
      status.textContent = reason === null ? tr.sharing : reason === "not_shared" ? tr.not_shared : tr.keyboard;
    } else if (message.kind === "ended") {
      status.textContent = tr.ended;
      showOverlay(tr.ended);
    }
  });

  stage.addEventListener("click", (event) => {
    const frame = replayer?.iframe;
    const doc = frame?.contentDocument;
    if (!replayer || !frame || !doc || !overlay.hidden) return;
    const box = frame.getBoundingClientRect();
    const scale = box.width / (frame.clientWidth || 1);
    const x = (event.clientX - box.left) / scale;
    const y = (event.clientY - box.top) / scale;
    const target = doc.elementFromPoint(x, y);
    if (target === null) return;
    const rect = target.getBoundingClientRect();
    const clamp = (/** @type {number} */ v) => Math.min(1, Math.max(0, v));
    socket.send(
      JSON.stringify({
        type: "cobrowse_pointer",
        action: "click",
        node: replayer.getMirror().getId(target),
        fx: clamp(rect.width ? (x - rect.left) / rect.width : 0.5),
        fy: clamp(rect.height ? (y - rect.top) / rect.height : 0.5),
      }),
    );
  });
}

void main();
