// @ts-check
/**
 * Checks run inside the page by the driver (`{"do": "audit"}`): the start page's
 * accessibility basics and its first render. Each function is sent to the page on its own
 * (Playwright serialises its source), so each is self-contained.
 * @module audit
 */

/**
 * What a screen reader or keyboard user would miss: controls without a name, regions
 * labelled by nothing, skipped heading levels, more or fewer than one h1, no language.
 * @returns {string[]}
 */
export function accessibilityProblems() {
  /** @type {string[]} */
  const problems = [];
  /** @param {Element} el */
  const name = (el) => {
    const own = (el.getAttribute("aria-label") || el.textContent || "").trim();
    if (own) return own;
    const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
    return (label?.textContent ?? "").trim();
  };
  for (const el of document.querySelectorAll("a, button, input:not([type=hidden])")) {
    if (!name(el)) problems.push(`no accessible name: ${el.outerHTML.slice(0, 80)}`);
  }
  for (const el of document.querySelectorAll("[aria-labelledby]")) {
    const ids = (el.getAttribute("aria-labelledby") ?? "").split(" ");
    if (!ids.every((id) => document.getElementById(id))) problems.push(`labelled by nothing: ${el.id}`);
  }
  const levels = [...document.querySelectorAll("h1, h2, h3")].map((h) => Number(h.tagName[1]));
  levels.forEach((level, i) => {
    if (i > 0 && level > (levels[i - 1] ?? 1) + 1) problems.push(`heading jumps to h${level}`);
  });
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  if (!document.documentElement.lang) problems.push("no lang");
  return problems;
}

/**
 * The lowest contrast ratio (WCAG 2) of any visible text against its background.
 * @returns {number}
 */
export function worstContrast() {
  /** @param {string} css */
  const rgb = (css) => (css.match(/[0-9.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map(Number);
  /** @param {number[]} c */
  const luminance = (c) => {
    const [r = 0, g = 0, b = 0] = c.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  /** @param {Element | null} el */
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c !== "transparent" && !c.startsWith("rgba(0, 0, 0, 0)")) return rgb(c);
    }
    return [255, 255, 255];
  };
  let worst = 21;
  for (const el of document.querySelectorAll("h1, h2, h3, p, li, a, button, label, dt, dd")) {
    if (!(el instanceof HTMLElement) || el.offsetParent === null || !el.textContent?.trim()) continue;
    const a = luminance(rgb(getComputedStyle(el).color));
    const b = luminance(background(el));
    worst = Math.min(worst, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
  }
  return worst;
}

/** @returns {Promise<number>} the page's first contentful paint, in ms from navigation */
export function firstContentfulPaint() {
  return new Promise((resolve) => {
    new PerformanceObserver((list) => {
      const entry = list.getEntries().find((e) => e.name === "first-contentful-paint");
      if (entry) resolve(entry.startTime);
    }).observe({ type: "paint", buffered: true });
  });
}
