// Every text the pages name exists in both languages, with the same placeholders.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

import { STRINGS, chooseLang, duration, t } from "../static/js/i18n.js";

const staticDir = new URL("../static/", import.meta.url);

test("both languages, same placeholders", () => {
  for (const [key, entry] of Object.entries(STRINGS)) {
    assert.ok(entry.ja && entry.en, key);
    const names = (/** @type {string} */ s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(names(entry.ja), names(entry.en), key);
  }
});

test("every key the HTML and the scripts use is defined", () => {
  const used = new Set();
  for (const name of readdirSync(staticDir)) {
    if (!name.endsWith(".html")) continue;
    const html = readFileSync(new URL(name, staticDir), "utf8");
    for (const m of html.matchAll(/data-i18n(?:-label)?="([a-z_]+)"/g)) used.add(m[1]);
  }
  const jsDir = new URL("js/", staticDir);
  for (const name of readdirSync(jsDir)) {
    const js = readFileSync(new URL(name, jsDir), "utf8");
    for (const m of js.matchAll(/\bt\(lang, "([a-z_]+)"/g)) used.add(m[1]);
    for (const m of js.matchAll(/problem\("([a-z_]+)"/g)) used.add(m[1]);
  }
  assert.ok(used.size > 40, `only ${used.size} keys found`);
  for (const key of used) assert.ok(key in STRINGS, `${key} is used but not defined`);
});

test("language choice and durations", () => {
  assert.equal(chooseLang("?lang=en", ["ja"]), "en");
  assert.equal(chooseLang("", ["en-GB", "ja"]), "en");
  assert.equal(chooseLang("?lang=fr", ["fr"]), "ja");
  assert.equal(duration("ja", 125), "2分5秒");
  assert.equal(duration("en", 59.6), "1 min 0 s");
  assert.equal(t("en", "request_who", { name: "Hanako Sato", organisation: "ACME" }), "Hanako Sato of ACME would like to see your screen.");
});
