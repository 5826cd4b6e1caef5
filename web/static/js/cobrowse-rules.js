// @ts-check
/**
 * Co-browsing's rules, without the DOM or the network: what may be shared, how it is
 * masked, when recording must stop, and how a batch travels on the `cobrowse` data
 * channel. cobrowse.js applies them in the customer's browser; Node's tests check them
 * (test/cobrowse-rules.test.js). docs/cobrowse.md explains them to a site's web team.
 * @module cobrowse-rules
 */

/** The data channel the page content travels on, customer to operator only (docs/protocol.md §12). */
export const COBROWSE_CHANNEL = "cobrowse";

/**
 * Every masked value is this, whatever its length: rrweb's default of one `*` per
 * character would tell the operator the length of a password and the rhythm of typing.
 */
export const FIXED_MASK = "●●●●●●●●";

/** Elements the customer marks private, besides the site's configured selectors. */
export const PRIVATE_ATTRIBUTE = "data-madoguchi-private";

/**
 * What is never recorded at all (a grey box on the operator's side): hidden inputs (rrweb
 * records their value even with "mask all inputs", rrweb issue 1609), canvas, iframes of
 * other origins (rrweb cannot read them anyway; their address is not sent either), and the
 * co-browse panel and pointer layer themselves.
 */
export const ALWAYS_BLOCKED = [
  "input[type=hidden]",
  "input[type=HIDDEN]",
  "canvas",
  "[data-madoguchi-ui]",
  `[${PRIVATE_ATTRIBUTE}="block"]`,
];

/** Text that is masked (fixed length) wherever it is: editable text and private elements. */
export const ALWAYS_MASKED_TEXT = ["[contenteditable]", "[contenteditable] *", `[${PRIVATE_ATTRIBUTE}]`, `[${PRIVATE_ATTRIBUTE}] *`, ".madoguchi-private", ".madoguchi-private *"];

/** Every kind of input rrweb knows, plus hidden: all masked, none ever in clear. */
export const MASK_INPUT_OPTIONS = Object.freeze({
  color: true,
  date: true,
  "datetime-local": true,
  email: true,
  month: true,
  number: true,
  range: true,
  search: true,
  tel: true,
  text: true,
  time: true,
  url: true,
  week: true,
  textarea: true,
  select: true,
  password: true,
  hidden: true,
});

/**
 * @typedef {object} SiteRules the relay's `[cobrowse]` configuration (GET /api/cobrowse/config)
 * @property {string[]} shareable URL path patterns (`*` matches anything) of pages that may be shared
 * @property {string[]} mask_selectors text masked with the fixed-length mask
 * @property {string[]} block_selectors never recorded (grey box)
 * @property {string[]} keyboard_selectors software keyboards: recording stops while one is visible
 */

/**
 * @param {unknown} value
 * @returns {SiteRules} the relay's answer, checked; anything malformed shares nothing
 */
export function parseRules(value) {
  /** @param {unknown} list */
  const strings = (list) => (Array.isArray(list) ? list.filter((s) => typeof s === "string" && s.length > 0 && s.length <= 500) : []);
  const v = typeof value === "object" && value !== null ? /** @type {Record<string, unknown>} */ (value) : {};
  return {
    shareable: strings(v.shareable),
    mask_selectors: strings(v.mask_selectors),
    block_selectors: strings(v.block_selectors),
    keyboard_selectors: strings(v.keyboard_selectors),
  };
}

/**
 * @param {string} pattern a path pattern: `*` matches any characters, everything else itself
 * @returns {RegExp}
 */
function patternRegExp(pattern) {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

/**
 * Whether a page may be shared: its path (never the query or fragment, which may carry
 * personal data) matches one of the shareable patterns. No pattern, no sharing.
 * @param {SiteRules} rules
 * @param {string} href the page's address
 * @returns {boolean}
 */
export function isShareable(rules, href) {
  let path;
  try {
    path = decodeURI(new URL(href).pathname);
  } catch {
    return false;
  }
  return rules.shareable.some((pattern) => patternRegExp(pattern).test(path));
}

/**
 * One selector list for rrweb's `blockSelector` / `maskTextSelector` (invalid selectors are
 * the caller's to drop first: see {@link validSelectors}).
 * @param {string[]} selectors
 * @returns {string}
 */
export function joinSelectors(selectors) {
  return selectors.join(", ");
}

/**
 * The selectors a document accepts: an invalid one in the configuration must not break
 * masking of the rest (rrweb would throw on the whole list).
 * @param {string[]} selectors
 * @param {(selector: string) => boolean} accepts e.g. `(s) => { try { document.querySelector(s); return true; } catch { return false; } }`
 * @returns {string[]}
 */
export function validSelectors(selectors, accepts) {
  return selectors.filter((s) => accepts(s));
}

/**
 * The options given to rrweb's `record()`; `emit` is the caller's.
 * @param {SiteRules} rules
 * @param {(selector: string) => boolean} accepts
 */
export function recordOptions(rules, accepts) {
  const block = validSelectors([...ALWAYS_BLOCKED, ...rules.block_selectors, ...rules.keyboard_selectors], accepts);
  const mask = validSelectors([...ALWAYS_MASKED_TEXT, ...rules.mask_selectors], accepts);
  return {
    blockSelector: joinSelectors(block),
    maskTextSelector: joinSelectors(mask),
    maskAllInputs: true,
    maskInputOptions: { ...MASK_INPUT_OPTIONS },
    maskInputFn: () => FIXED_MASK,
    maskTextFn: () => FIXED_MASK,
    recordCanvas: false,
    recordCrossOriginIframes: false,
    collectFonts: false,
    inlineImages: false,
    // Input events on every keystroke, but rrweb drops an event whose text equals the
    // field's last one: with the fixed mask a field sends one event, not one per key, so
    // the typing rhythm is not told either ("input: last" would wait for the field's blur).
    sampling: { mousemove: 100, scroll: 150, media: 800 },
    slimDOMOptions: /** @type {"all"} */ ("all"),
  };
}

/**
 * Whether a phone's or tablet's on-screen keyboard is up: a touch device, an editable element
 * has focus and the visible height lost at least a quarter of the tallest seen at this width.
 * The visible height is the visual viewport's height times its scale, so zooming in does not
 * count; the tallest, not the window's inner height, is the reference, because a browser
 * that resizes the layout for the keyboard (`interactive-widget=resizes-content`) shrinks
 * the window too.
 * @param {{coarsePointer: boolean, editableFocused: boolean, visibleHeight: number, tallestHeight: number}} s
 * @returns {boolean}
 */
export function virtualKeyboardUp(s) {
  return s.coarsePointer && s.editableFocused && s.tallestHeight > 0 && s.visibleHeight < s.tallestHeight * 0.75;
}

/** Fields whose value is masked (every input with a value the customer types or picks). */
const TYPED_FIELDS = [
  "input:not([type=hidden], [type=checkbox], [type=radio], [type=submit], [type=button], [type=reset], [type=image])",
  "textarea",
  "select",
  "[contenteditable]",
];

/**
 * What the customer is shown as hidden from the operator (an outline on the page while
 * sharing): the fields, private elements, canvas and the site's configured selectors; the
 * caller drops invalid selectors and draws only the outermost of nested matches.
 * @param {SiteRules} rules
 * @returns {string[]}
 */
export function hiddenSelectors(rules) {
  return [
    ...TYPED_FIELDS,
    `[${PRIVATE_ATTRIBUTE}]`,
    ".madoguchi-private",
    "canvas",
    ...rules.mask_selectors,
    ...rules.block_selectors,
    ...rules.keyboard_selectors,
  ];
}

/**
 * @typedef {{company_name: string, colour: string | null}} Brand the launcher's branding from the relay
 */

/**
 * @param {unknown} value the config's `brand`
 * @returns {Brand} a name of at most 60 characters and a `#rrggbb` colour, or none
 */
export function parseBrand(value) {
  const v = typeof value === "object" && value !== null ? /** @type {Record<string, unknown>} */ (value) : {};
  const name = typeof v.company_name === "string" ? v.company_name.slice(0, 60) : "";
  const colour = typeof v.colour === "string" && /^#[0-9a-fA-F]{6}$/.test(v.colour) ? v.colour : null;
  return { company_name: name, colour };
}

/** Largest data-channel message: under every browser's and aiortc's SCTP limit (64 KiB). */
export const MAX_CHUNK_BYTES = 16 * 1024;

/**
 * Split one compressed batch into data-channel messages: byte 0 is 1 when more of the
 * batch follows, 0 on its last message; the rest is the gzip stream's next bytes.
 * @param {Uint8Array} compressed
 * @returns {Uint8Array<ArrayBuffer>[]}
 */
export function chunk(compressed) {
  const out = [];
  const body = MAX_CHUNK_BYTES - 1;
  for (let at = 0; at < compressed.length || out.length === 0; at += body) {
    const part = compressed.subarray(at, at + body);
    const message = new Uint8Array(part.length + 1);
    message[0] = at + body < compressed.length ? 1 : 0;
    message.set(part, 1);
    out.push(message);
  }
  return out;
}

/**
 * @typedef {{type: "cobrowse_pointer", action: "move" | "click" | "hide", node: number, fx: number, fy: number}} CobrowsePointer
 * the operator's pointer, anchored to a mirrored element (rrweb node id) and a point inside
 * its box given as fractions (0..1), so it lands on the same element whatever the viewports
 */

/**
 * Decode what the operator sends on the `guidance` channel during co-browsing. Only the
 * pointer is accepted (R9): there is no message to click, type, scroll or navigate, and
 * anything else is refused (null), never interpreted.
 * @param {unknown} data
 * @returns {CobrowsePointer | null}
 */
export function decodeCobrowseGuidance(data) {
  if (typeof data !== "string" || data.length > 512) return null;
  let m;
  try {
    m = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof m !== "object" || m === null || Array.isArray(m) || m.type !== "cobrowse_pointer") return null;
  const action = m.action;
  if (action !== "move" && action !== "click" && action !== "hide") return null;
  const { node, fx, fy } = m;
  if (!Number.isInteger(node) || node < 0 || node > 2 ** 31) return null;
  if (typeof fx !== "number" || typeof fy !== "number" || !(fx >= 0 && fx <= 1 && fy >= 0 && fy <= 1)) return null;
  return { type: "cobrowse_pointer", action, node, fx, fy };
}
