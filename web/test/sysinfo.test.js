// R20 from recorded user agents and Client Hints.
import assert from "node:assert/strict";
import { test } from "node:test";

import { normalSysinfo, parseUserAgent, sharingSupport } from "../static/js/sysinfo.js";

const EDGE_WIN =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
const FIREFOX_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const ANDROID =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
const IPADOS = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

test("Client Hints give Windows 11 and the real browser brand", () => {
  const report = normalSysinfo(
    {
      platform: "Windows",
      platformVersion: "15.0.0",
      fullVersionList: [
        { brand: "Not A(Brand", version: "8.0.0.0" },
        { brand: "Chromium", version: "131.0.6778.86" },
        { brand: "Microsoft Edge", version: "131.0.2903.70" },
      ],
    },
    EDGE_WIN,
  );
  assert.deepEqual(report, {
    type: "sysinfo",
    scope: "normal",
    data: { os: "Windows", os_version: "11 (15.0.0)", default_browser: "Microsoft Edge", default_browser_version: "131.0.2903.70" },
    unavailable: {},
  });
});

test("without Client Hints the user agent is read", () => {
  const report = normalSysinfo(null, FIREFOX_WIN);
  assert.deepEqual(report.data, { os: "Windows", os_version: "10.0", default_browser: "Firefox", default_browser_version: "133.0" });
  assert.deepEqual(report.unavailable, {});
  const unknown = normalSysinfo(null, "curl/8");
  assert.deepEqual(Object.keys(unknown.unavailable).sort(), ["default_browser", "default_browser_version", "os", "os_version"]);
  assert.deepEqual(Object.keys(report.data).sort(), ["default_browser", "default_browser_version", "os", "os_version"]);
});

test("user agents of phones and Macs", () => {
  assert.deepEqual(parseUserAgent(IPHONE), { os: "iOS", osVersion: "17.5", browser: "Safari", browserVersion: "17.5" });
  assert.equal(parseUserAgent(ANDROID).os, "Android");
});

test("phones and tablets take the unsupported path, desktops without getDisplayMedia too", () => {
  const desktop = { hasDisplayMedia: true, mobileHint: false, userAgent: EDGE_WIN, maxTouchPoints: 0 };
  assert.equal(sharingSupport(desktop), "ok");
  assert.equal(sharingSupport({ ...desktop, userAgent: IPHONE, mobileHint: null }), "mobile");
  assert.equal(sharingSupport({ ...desktop, userAgent: ANDROID, mobileHint: true }), "mobile");
  assert.equal(sharingSupport({ ...desktop, userAgent: IPADOS, mobileHint: null, maxTouchPoints: 5 }), "mobile");
  assert.equal(sharingSupport({ ...desktop, hasDisplayMedia: false }), "no-display-media");
});
