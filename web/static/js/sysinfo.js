// @ts-check
/**
 * System information in normal scope (R20): the four items a browser can tell.
 *
 * `os`, `os_version`, `default_browser`, `default_browser_version`, as the agent's
 * normal scope reports them (docs/sysinfo.md). A page cannot see which browser is the
 * default, only the one it runs in: that one is reported (the page says so). User-Agent
 * Client Hints give the real OS version (Chromium: "11 (15.0.0)"); elsewhere the user-agent
 * string, whose Windows version is frozen at "10.0" (Windows 11 too). `unavailable` names
 * only the items left null, as the agent's does.
 * Pure functions of their inputs: Node's test runner checks them on recorded values.
 * @module sysinfo
 */

/** @typedef {import("./protocol.js").SysInfoReport} SysInfoReport */

/**
 * @typedef {object} HighEntropy what `navigator.userAgentData.getHighEntropyValues` returned
 * @property {string} [platform]
 * @property {string} [platformVersion]
 * @property {{brand: string, version: string}[]} [fullVersionList]
 */

const GREASE = /not.?a.?brand/i;
const BROWSER_BRANDS = ["Microsoft Edge", "Google Chrome", "Opera", "Brave", "Vivaldi", "Chromium"];

/**
 * @param {HighEntropy | null} hints null when the browser has no Client Hints (Firefox, Safari)
 * @param {string} userAgent navigator.userAgent
 * @returns {SysInfoReport}
 */
export function normalSysinfo(hints, userAgent) {
  /** @type {Record<string, string | null>} */
  const data = { os: null, os_version: null, default_browser: null, default_browser_version: null };
  /** @type {Record<string, string>} */
  const unavailable = {};
  const fromUa = parseUserAgent(userAgent);
  if (hints?.platform) {
    data.os = hints.platform;
    data.os_version = hints.platformVersion ? windowsVersion(hints.platform, hints.platformVersion) : null;
  } else {
    data.os = fromUa.os;
    data.os_version = fromUa.osVersion;
  }
  const brand = hints?.fullVersionList ? pickBrand(hints.fullVersionList) : null;
  data.default_browser = brand?.brand ?? fromUa.browser;
  data.default_browser_version = brand?.version ?? fromUa.browserVersion;
  for (const [key, value] of Object.entries(data)) {
    if (value === null) unavailable[key] = "not told by the browser";
  }
  return { type: "sysinfo", scope: "normal", data, unavailable };
}

/**
 * Client Hints give Windows' "platform version" (13 and above is Windows 11, 1-10 is 10).
 * @param {string} platform
 * @param {string} version
 * @returns {string}
 */
function windowsVersion(platform, version) {
  if (platform !== "Windows") return version;
  const major = Number.parseInt(version.split(".")[0] ?? "", 10);
  if (Number.isNaN(major) || major === 0) return version;
  return `${major >= 13 ? "11" : "10"} (${version})`;
}

/**
 * @param {{brand: string, version: string}[]} brands
 * @returns {{brand: string, version: string} | null}
 */
function pickBrand(brands) {
  const real = brands.filter((b) => !GREASE.test(b.brand));
  for (const name of BROWSER_BRANDS) {
    const found = real.find((b) => b.brand === name);
    if (found) return found;
  }
  return real[0] ?? null;
}

/**
 * @param {string} ua
 * @returns {{os: string | null, osVersion: string | null, browser: string | null, browserVersion: string | null}}
 */
export function parseUserAgent(ua) {
  /** @type {string | null} */
  let os = null;
  /** @type {string | null} */
  let osVersion = null;
  let m;
  if ((m = /Windows NT ([0-9.]+)/.exec(ua))) {
    os = "Windows";
    osVersion = m[1] ?? null;
  } else if ((m = /Android ([0-9.]+)/.exec(ua))) {
    os = "Android";
    osVersion = m[1] ?? null;
  } else if ((m = /(?:iPhone|iPad|CPU) OS ([0-9_]+)/.exec(ua))) {
    os = "iOS";
    osVersion = (m[1] ?? "").replaceAll("_", ".");
  } else if ((m = /Mac OS X ([0-9_.]+)/.exec(ua))) {
    os = "macOS";
    osVersion = (m[1] ?? "").replaceAll("_", ".");
  } else if (/CrOS/.test(ua)) {
    os = "ChromeOS";
  } else if (/Linux/.test(ua)) {
    os = "Linux";
  }
  /** @type {[RegExp, string][]} */
  const browsers = [
    [/Edg\/([0-9.]+)/, "Microsoft Edge"],
    [/OPR\/([0-9.]+)/, "Opera"],
    [/Firefox\/([0-9.]+)/, "Firefox"],
    [/Chrome\/([0-9.]+)/, "Chrome"],
    [/Version\/([0-9.]+).*Safari\//, "Safari"],
  ];
  for (const [pattern, name] of browsers) {
    const found = pattern.exec(ua);
    if (found) return { os, osVersion, browser: name, browserVersion: found[1] ?? null };
  }
  return { os, osVersion, browser: null, browserVersion: null };
}

/**
 * Can this browser share the screen? Phones and tablets cannot (no getDisplayMedia there,
 * or one that shares nothing useful).
 * @param {{hasDisplayMedia: boolean, mobileHint: boolean | null, userAgent: string, maxTouchPoints: number}} env
 * @returns {"ok" | "mobile" | "no-display-media"}
 */
export function sharingSupport(env) {
  const ua = env.userAgent;
  const mobile =
    env.mobileHint === true ||
    /Android|iPhone|iPod|Mobile/.test(ua) ||
    /iPad/.test(ua) ||
    (/Macintosh/.test(ua) && env.maxTouchPoints > 1); // iPadOS asks for the desktop site
  if (mobile) return "mobile";
  if (!env.hasDisplayMedia) return "no-display-media";
  return "ok";
}
