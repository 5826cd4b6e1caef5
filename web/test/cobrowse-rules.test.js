// @ts-check
// Co-browsing's rules without a browser: sharing by URL pattern, the masking options given
// to rrweb, the virtual-keyboard test, chunking, and what the operator may send (R9).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ALWAYS_BLOCKED,
  FIXED_MASK,
  MAX_CHUNK_BYTES,
  chunk,
  decodeCobrowseGuidance,
  isShareable,
  parseRules,
  recordOptions,
  virtualKeyboardUp,
  parseBrand,
  hiddenSelectors,
} from "../static/js/cobrowse-rules.js";

const rules = parseRules({
  shareable: ["/bank/", "/bank/account/*", "/bank/login.html"],
  mask_selectors: [".balance-detail", "]]bad["],
  block_selectors: ["#ads"],
  keyboard_selectors: [".soft-keyboard"],
});

test("only pages matching a shareable pattern are shared, by path alone", () => {
  assert.equal(isShareable(rules, "https://bank.example/bank/"), true);
  assert.equal(isShareable(rules, "https://bank.example/bank/account/savings?x=1#top"), true);
  assert.equal(isShareable(rules, "https://bank.example/bank/login.html"), true);
  assert.equal(isShareable(rules, "https://bank.example/bank/privacy.html"), false);
  assert.equal(isShareable(rules, "https://bank.example/bank/login.htmlx"), false);
  assert.equal(isShareable(rules, "https://bank.example/bank/loginXhtml"), false); // "." is not a wildcard
  assert.equal(isShareable(rules, "https://bank.example/other/?p=/bank/"), false); // the query never counts
  assert.equal(isShareable(parseRules({}), "https://bank.example/bank/"), false); // no pattern, no sharing
  assert.equal(isShareable(rules, "not a url"), false);
});

test("a malformed configuration shares nothing and drops bad entries", () => {
  assert.deepEqual(parseRules(null), { shareable: [], mask_selectors: [], block_selectors: [], keyboard_selectors: [] });
  assert.deepEqual(parseRules({ shareable: "/bank/*", mask_selectors: [1, "", ".a"] }).mask_selectors, [".a"]);
  assert.deepEqual(parseRules({ shareable: "/bank/*" }).shareable, []);
});

test("rrweb is told to mask every value with one fixed-length mask and to block the rest", () => {
  const options = recordOptions(rules, (s) => !s.startsWith("]]"));
  assert.equal(options.maskAllInputs, true);
  for (const kind of ["password", "text", "email", "tel", "number", "textarea", "select", "hidden"]) {
    assert.equal(options.maskInputOptions[/** @type {keyof typeof options.maskInputOptions} */ (kind)], true, kind);
  }
  assert.equal(options.maskInputFn(), FIXED_MASK);
  assert.equal(options.maskTextFn(), FIXED_MASK);
  for (const selector of [...ALWAYS_BLOCKED, "#ads", ".soft-keyboard"]) assert.ok(options.blockSelector.includes(selector), selector);
  assert.ok(options.blockSelector.includes("input[type=hidden]"));
  assert.ok(options.blockSelector.includes("canvas"));
  assert.ok(options.maskTextSelector.includes("[contenteditable]"));
  assert.ok(options.maskTextSelector.includes(".balance-detail"));
  assert.ok(!options.maskTextSelector.includes("]]bad["), "an invalid selector is dropped, the rest still apply");
  assert.equal(options.recordCanvas, false);
  assert.equal(options.recordCrossOriginIframes, false);
});

test("a phone's keyboard is up when the visible height shrinks around a focused field", () => {
  const phone = { coarsePointer: true, editableFocused: true, visibleHeight: 400, tallestHeight: 800 };
  assert.equal(virtualKeyboardUp(phone), true);
  assert.equal(virtualKeyboardUp({ ...phone, editableFocused: false }), false);
  assert.equal(virtualKeyboardUp({ ...phone, coarsePointer: false }), false); // a desktop's resize is not a keyboard
  assert.equal(virtualKeyboardUp({ ...phone, visibleHeight: 700 }), false);
  assert.equal(virtualKeyboardUp({ ...phone, tallestHeight: 0 }), false);
});

test("the launcher's branding is checked", () => {
  assert.deepEqual(parseBrand({ company_name: "サンプル銀行", colour: "#0a7d3b" }), { company_name: "サンプル銀行", colour: "#0a7d3b" });
  assert.deepEqual(parseBrand({ company_name: 3, colour: "red; background: url(x)" }), { company_name: "", colour: null });
  assert.deepEqual(parseBrand(null), { company_name: "", colour: null });
});

test("what the customer is shown as hidden covers the fields, private elements and the site's selectors", () => {
  const rules = parseRules({ shareable: ["/"], mask_selectors: [".name"], block_selectors: ["#ads"], keyboard_selectors: [".kb"] });
  const hidden = hiddenSelectors(rules);
  for (const s of ["textarea", "select", "[contenteditable]", "[data-madoguchi-private]", ".madoguchi-private", "canvas", ".name", "#ads", ".kb"]) {
    assert.ok(hidden.includes(s), s);
  }
  assert.ok(hidden[0].startsWith("input:not(") && hidden[0].includes("[type=hidden]") && hidden[0].includes("[type=checkbox]"));
  assert.ok(!hidden.includes("[data-madoguchi-ui]"), "the panel itself is not outlined");
});

test("batches are split under the data channel's message limit and joined back in order", () => {
  const data = new Uint8Array(MAX_CHUNK_BYTES * 2 + 5).map((_, i) => i % 251);
  const parts = chunk(data);
  assert.equal(parts.length, 3);
  assert.deepEqual(parts.map((p) => p[0]), [1, 1, 0]);
  assert.ok(parts.every((p) => p.length <= MAX_CHUNK_BYTES));
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length - 1, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p.subarray(1), at);
    at += p.length - 1;
  }
  assert.deepEqual(joined, data);
  assert.deepEqual(chunk(new Uint8Array(0)).map((p) => [...p]), [[0]]);
});

test("from the operator only a well-formed pointer is accepted (R9)", () => {
  assert.deepEqual(decodeCobrowseGuidance('{"type":"cobrowse_pointer","action":"click","node":12,"fx":0.5,"fy":1}'), {
    type: "cobrowse_pointer",
    action: "click",
    node: 12,
    fx: 0.5,
    fy: 1,
  });
  for (const hostile of [
    '{"type":"click","x":1,"y":1}',
    '{"type":"key","key":"Enter"}',
    '{"type":"navigate","url":"https://evil.example"}',
    '{"type":"scroll","y":900}',
    '{"type":"cobrowse_pointer","action":"submit","node":1,"fx":0,"fy":0}',
    '{"type":"cobrowse_pointer","action":"move","node":1.5,"fx":0,"fy":0}',
    '{"type":"cobrowse_pointer","action":"move","node":1,"fx":2,"fy":0}',
    '{"type":"cobrowse_pointer","action":"move","node":1,"fx":"0","fy":0}',
    '["cobrowse_pointer"]',
    "null",
    "not json",
    "x".repeat(1000),
    new ArrayBuffer(8),
  ]) {
    assert.equal(decodeCobrowseGuidance(hostile), null, String(hostile).slice(0, 60));
  }
});
